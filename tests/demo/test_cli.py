"""`gastown run` and `gastown demo`: bad input gets one clear line and exit 1, nothing half-made."""
from __future__ import annotations

import os
import subprocess
import sys


def gastown(*args, cwd=None, env=None):
    e = {**os.environ, **(env or {})}
    e.pop("GT_TOWN", None)
    return subprocess.run([sys.executable, "-m", "gastown_tui.cli", *args], cwd=cwd, env=e, capture_output=True,
                          text=True, timeout=60)


def test_run_outside_a_town_says_so(tmp_path):
    p = gastown("run", "--headless", cwd=tmp_path)
    assert p.returncode == 1
    assert "not inside a town" in p.stderr and str(tmp_path) in p.stderr


def test_run_until_an_unknown_convoy_names_it(tmp_path):
    from gastown_tui.town.install import install_town

    town = install_town(tmp_path / "town")
    p = gastown("run", "--headless", "--until-convoy", "hq-cv-nope", "--timeout", "5", cwd=town.root)
    assert p.returncode == 1 and "hq-cv-nope" in p.stderr


def test_demo_refuses_a_folder_that_is_not_empty_and_touches_nothing(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    p = gastown("demo", "--dir", str(tmp_path), "--headless")
    assert p.returncode == 1 and "is not empty" in p.stderr
    assert sorted(os.listdir(tmp_path)) == ["mine.txt"]


def test_demo_bad_numbers(tmp_path):
    p = gastown("demo", "--dir", str(tmp_path / "a"), "--headless", "--polecats", "0")
    assert p.returncode == 1 and "--polecats must be at least 1" in p.stderr
    assert not (tmp_path / "a").exists()
    p = gastown("demo", "--dir", str(tmp_path / "b"), "--headless", "--timeout", "-3")
    assert p.returncode == 1 and "--timeout must be more than zero" in p.stderr
    p = gastown("demo", "--polecats", "many")
    assert p.returncode == 2 and "invalid int value" in p.stderr


def test_demo_continues_a_demo_folder_and_reports_a_broken_record(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "demo.json").write_text("{not json")
    p = gastown("demo", "--dir", str(d), "--headless")
    assert p.returncode == 1 and "demo.json: not a demo record" in p.stderr


def test_demo_refuses_a_negative_pace_and_makes_nothing(tmp_path):
    target = tmp_path / "demo"
    p = gastown("demo", "--dir", str(target), "--headless", "--pace", "-1")
    assert p.returncode == 1 and "--pace must be zero or more seconds" in p.stderr
    assert not target.exists() or not any(target.iterdir())
