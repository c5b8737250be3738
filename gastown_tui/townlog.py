"""Where the core's logged problems go: `<town>/.runtime/gastown.log`.

Every module logs through `logging.getLogger(__name__)`, i.e. below the
`gastown_tui` logger. A process that runs a town (the app, the town server,
`gastown run`) calls `configure(town.runtime)` once, through `TownRuntime`: from
then on warnings and errors caught anywhere below (a listener that raised, a
courtesy mail that could not be sent, a transcript flush that failed) land in
that file with their tracebacks. Inside the app stderr is not the terminal, so
`traceback.print_exc()` would be lost; this file is not.
"""
from __future__ import annotations

import logging
from pathlib import Path

LOG_NAME = "gastown.log"
FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"


class _TownLogHandler(logging.FileHandler):
    """The handler `configure` adds (told apart from any other by its class)."""


def configure(runtime_dir: Path, level: int = logging.INFO) -> Path:
    """Sends the `gastown_tui` loggers to RUNTIME_DIR/gastown.log (appending). One town per
    process: configuring another town's runtime moves the log there; the same one again is a no-op."""
    path = (Path(runtime_dir) / LOG_NAME).resolve()
    root = logging.getLogger("gastown_tui")
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    for handler in list(root.handlers):
        if isinstance(handler, _TownLogHandler):
            if Path(handler.baseFilename) == path:
                return path
            root.removeHandler(handler)
            handler.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    town_log = _TownLogHandler(path, encoding="utf-8", delay=True)
    town_log.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(town_log)
    return path
