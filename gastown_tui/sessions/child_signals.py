"""An agent's program starts with its signals as a terminal window gives them: default actions, none blocked.

A process keeps ignored signals (and its blocked-signal mask) across exec. Whoever started the town server,
the app or a node's daemon may have left some ignored: Python ignores SIGPIPE in its own process, a command
put in the background by a script (`gastown up &`) ignores SIGINT and SIGQUIT, `nohup` ignores SIGHUP. An
agent that inherited them would not stop on a ctrl+c typed into its pane or on a hang-up, and `yes | head`
in its shell would not end quietly. Like tmux for its panes, the child resets them just before it runs the
agent (`reset`, the `preexec_fn` of pexpect/ptyprocess)."""
from __future__ import annotations

import signal

RESET = (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGTERM, signal.SIGPIPE, signal.SIGXFSZ,
         signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU, signal.SIGCHLD, signal.SIGWINCH)


def reset() -> None:
    """(In the forked child, before exec.) Every signal in RESET back to its default action; none blocked."""
    for sig in RESET:
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
