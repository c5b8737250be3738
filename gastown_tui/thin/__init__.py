"""The stdlib-only `gt`/`bd` client the agents' shims run (thin/client.py)."""
