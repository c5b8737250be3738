"""`gt` and `bd` for agents: hand the command to the town's server, else run it here.

    python -S .../gastown_tui/thin/client.py gt|bd ARGS...

Standard library only (exec_client.py beside it does the work). The shims in a town's `.runtime/shims`
import exec_client directly, from its cached bytecode; this script is the same client for tests and for
anything that runs it by path.
"""
import sys

if __name__ == "__main__":
    sys.path[0] = __file__.rpartition("/")[0] or "."
    import exec_client

    sys.exit(exec_client.main())
