"""The wheel is complete: built from the checkout, installed into a fresh
virtual environment, it runs `gastown --version`, finds its built-in data
(themes, formulas) and runs the headless demo from there."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with the project's wheel installed; returns its bin dir."""
    work = tmp_path_factory.mktemp("wheel")
    dist = work / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(REPO)],
        check=True, capture_output=True, text=True,
    )
    wheels = list(dist.glob("gastown_tui-*.whl"))
    assert len(wheels) == 1, wheels
    names = zipfile.ZipFile(wheels[0]).namelist()
    assert any(n.startswith("gastown_tui/_formulas/") and n.endswith(".formula.toml") for n in names)
    assert any(n.startswith("gastown_tui/_themes/") for n in names)
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-c", str(REPO / "constraints.txt"),
         str(wheels[0])],
        check=True, capture_output=True, text=True, timeout=600,
    )
    return venv / "bin"


def _run(bin_dir: Path, *args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run([str(bin_dir / "gastown"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_installed_wheel_reports_version(installed, tmp_path):
    from gastown_tui import __version__

    result = _run(installed, "--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"gastown {__version__}"


def test_installed_wheel_uses_its_own_data(installed, tmp_path):
    code = (
        "import gastown_tui.resources as r; "
        "print(r.formulas_dir()); print(r.themes_dir()); "
        "print(len(list(r.formulas_dir().glob('*.formula.toml'))))"
    )
    out = subprocess.run([str(installed / "python"), "-c", code], cwd=tmp_path,
                         capture_output=True, text=True, check=True).stdout.split()
    assert "site-packages" in out[0] and "site-packages" in out[1]
    assert int(out[2]) >= 10  # the built-in formulas of issue 3
