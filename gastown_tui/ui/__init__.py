"""The app's glue that is not a screen: the town controller, the view builder, settings, themes, keys,
the screen registry, the command palette, notices, messages and ghosts."""
