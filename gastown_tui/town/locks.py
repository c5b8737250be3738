"""Compatibility name: the town's file lock is `gastown_tui.filelock.file_lock`. Nothing in this tree
imports this module any more; it is kept only so modules from branches still in flight that say
`town.locks` keep working until they are merged (then this file goes)."""
from gastown_tui.filelock import file_lock  # noqa: F401  (compatibility)
