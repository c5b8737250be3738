"""The core never imports Textual or the widgets (ARCHITECTURE.md, 'Layers')."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "gastown_tui"
CORE = ["beads", "meow", "town", "vcs", "sessions", "patrols", "server", "thin"]


def core_modules() -> list[str]:
    mods = ["gastown_tui.cli", "gastown_tui.errors", "gastown_tui.resources"]
    for pkg in CORE:
        for path in sorted((PACKAGE / pkg).rglob("*.py")):
            rel = path.relative_to(PACKAGE.parent).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            mods.append(".".join(parts))
    for path in sorted((PACKAGE / "commands").glob("*.py")):
        if path.stem not in ("__init__", "app", "demo"):
            mods.append(f"gastown_tui.commands.{path.stem}")
    return mods


@pytest.mark.parametrize("module", core_modules())
def test_core_module_does_not_import_textual(module):
    code = (
        "import importlib, json, sys; importlib.import_module(%r); "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'widgets'))))"
    ) % module
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == [], f"{module} pulls in {out.strip()}"
