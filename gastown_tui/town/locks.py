"""Compatibility name: the town's file lock is `gastown_tui.filelock.file_lock`. Kept so modules
from branches that still import `town.locks` keep working until they are moved over."""
from gastown_tui.filelock import file_lock  # noqa: F401  (compatibility)
