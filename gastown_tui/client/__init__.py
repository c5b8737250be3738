"""The app's side of the town: one `TownLink` for every read, action and agent screen (docs/protocol.md)."""
