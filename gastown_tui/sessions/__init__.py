"""Agent sessions: programs in pseudo-terminals, their screens, states and nudges.

Public API (see docs/contracts.md, sessions section): `new_screen` (VT engine),
`Session`/`SessionSpec`, `SessionManager`, `load_presets`/`Preset`, `SessionState`
and the events. Nothing here imports Textual.
"""
