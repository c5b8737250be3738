"""The web server's small pieces: no Textual on the server side, a bounded badge, one fixed command."""
from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from gastown_tui.web.app_service import badge_fields
from gastown_tui.web.server import app_command


@pytest.mark.parametrize("module", ["gastown_tui.web.server", "gastown_tui.web.app_service",
                                    "gastown_tui.web.town_server"])
def test_the_web_side_never_imports_textual(module):
    code = (f"import importlib, json, sys; importlib.import_module({module!r}); "
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'widgets'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []


def test_the_only_command_is_this_pythons_app_on_this_town(tmp_path):
    argv = shlex.split(app_command(tmp_path / "my town; rm -rf ~"))
    assert argv == [sys.executable, "-m", "gastown_tui.cli", "app", "--town", str(tmp_path / "my town; rm -rf ~")]
    assert shlex.split(app_command(Path("/t"), agents=False))[-1] == "--no-agents"


def test_the_badge_reaching_the_page_is_bounded():
    assert badge_fields({"count": "7", "title": "gastown · demo"}) == {"count": 7, "title": "gastown · demo"}
    assert badge_fields({"count": -3})["count"] == 0 and badge_fields({"count": 10**9})["count"] == 9999
    assert badge_fields({"count": "lots", "title": "x" * 500}) == {"count": 0, "title": "x" * 120}
