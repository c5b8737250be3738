"""Rules with version ranges, the installed CLI's version, the noise-blind change detector, the
alternate-screen log, and preset settings (path, base_url, resume_argv following argv)."""
from __future__ import annotations

import sys
import time

import pytest

from gastown_tui.sessions.cli_version import in_range, installed_version, parse_range, parse_version
from gastown_tui.sessions.presets import PresetError, load_presets
from gastown_tui.sessions.rules import Detector, Observation, Rule, RuleError
from gastown_tui.sessions.screen_log import ScreenLog
from gastown_tui.sessions.states import SessionState


def test_versions_and_ranges():
    assert parse_version("2.1.337 (Claude Code)") == (2, 1, 337)
    assert parse_version("codex-cli 0.171.0") == (0, 171, 0)
    assert parse_version("aider 0.86.2\n") == (0, 86, 2) and parse_version("no digits") is None
    assert in_range("2.1.337", ">2.1.197") and not in_range("2.1.197", ">2.1.197")
    assert in_range("2.1.197", "<=2.1.197,>=2") and not in_range("3.0", ">=2.1,<3")
    assert in_range("0.61.0", "==0.61") and not in_range("0.61.1", "==0.61")
    # Unknown version: rules for the newest (no upper bound) hold, rules for old versions do not.
    assert in_range(None, ">2.1.197") and not in_range(None, "<=2.1.197") and in_range(None, None)
    for bad in ("", "newest", ">=2.x", "~2.1"):
        with pytest.raises(ValueError, match="version range"):
            parse_range(bad)


def test_a_rule_with_a_bad_range_is_refused_naming_it():
    with pytest.raises(RuleError, match=r"'x\.idle'.*bad version range '>= two'"):
        Rule.from_dict({"name": "x.idle", "state": "idle", "pattern": "$ ", "versions": ">= two"})


def _obs(lines, title=""):
    now = time.monotonic()
    return Observation(lines, len(lines) - 1, title, None, now, now)


def test_the_detector_keeps_the_rules_of_the_installed_version():
    claude = load_presets()["claude"]
    old_footer = ["", "❯ ", "", "  ? for shortcuts"]
    new_footer = ["", "❯ ", "", "  ⏵⏵ auto mode on (shift+tab to cycle)"]
    old, new = Detector(list(claude.rules), version="2.1.197"), Detector(list(claude.rules), version="2.1.337")
    assert old.classify(_obs(old_footer))[:2] == (SessionState.IDLE, "claude.idle.footer")
    assert new.classify(_obs(new_footer))[:2] == (SessionState.IDLE, "claude.idle.footer")
    assert old.classify(_obs(new_footer, title="Claude Code"))[1] != "claude.idle.footer"  # not a 2.1.197 screen
    # The title spinner: braille up to 2.1.197, ◐/◑ after.
    assert new.classify(_obs(["x"], title="◐ Fake session"))[:2] == (SessionState.WORKING, "claude.working.title-spinner")
    assert old.classify(_obs(["x"], title="⠂ Fake session"))[:2] == (SessionState.WORKING, "claude.working.title-spinner")
    assert old.classify(_obs(["x"], title="◐ Fake session"))[1] != "claude.working.title-spinner"
    unknown = Detector(list(claude.rules), version=None)  # a build we cannot name reads like the newest
    assert unknown.classify(_obs(new_footer))[:2] == (SessionState.IDLE, "claude.idle.footer")
    unknown.set_version("2.1.197")
    assert unknown.classify(_obs(old_footer))[:2] == (SessionState.IDLE, "claude.idle.footer")


def test_dialogs_that_wait_for_a_person_are_never_idle_even_under_an_idle_title():
    claude = Detector(list(load_presets()["claude"].rules), version="2.1.337")
    auto = ["  Auto mode can't check actions in this session", "  You can stay in auto mode and approve each action",
            "  Enter to stay in auto mode · shift+Tab to leave for accept edits mode and stop · Esc to cancel"]
    state, rule, _ = claude.classify(_obs(auto, title="✳ Fake session"))
    assert (state, rule) == (SessionState.NEEDS_APPROVAL, "claude.needs-approval.auto-mode")
    retry = ["✻ 529 overloaded · retrying in 7s · attempt 6/10", "  ⏵⏵ auto mode on (shift+tab to cycle) · esc to interrupt"]
    assert claude.classify(_obs(retry, title="◐ x"))[:2] == (SessionState.WORKING, "claude.working.api-retry")


def test_a_blinking_marker_alone_is_not_a_screen_change():
    d = Detector([], stuck_after=600)
    t = time.monotonic()
    assert d.note_screen(["● Running git push origin main", "✽ Thinking… 3s", "Enter to stay"], t)
    assert not d.note_screen(["  Running git push origin main", "· Thinking… 4s", "Enter to stay"], t + 1)
    assert not d.note_screen(["● Running git push origin main", "✶ Thinking… 5s", "Enter to stay"], t + 2)
    assert d.last_change_at == t
    assert d.note_screen(["● Running git push origin main", "✶ Thinking… 5s", "Yes, proceed"], t + 3)


def test_the_screen_log_keeps_each_line_once_in_order_and_a_line_said_again_later():
    log = ScreenLog(recent=4)
    log.note(["❯ hello", "● Running it.", "✽ Thinking 1s", "──────"])
    log.note(["❯ hello", "  Running it.", "· Thinking 2s", "──────"])
    log.note(["❯ hello", "● DONE wrote a.txt", "──────"])
    assert log.text().splitlines() == ["❯ hello", "● Running it.", "✽ Thinking 1s", "──────", "● DONE wrote a.txt"]
    for i in range(6):
        log.note([f"line {chr(97 + i)}", "──────"])
    log.note(["❯ hello", "──────"])  # scrolled out of the recent lines long ago: said again, kept again
    assert log.text().splitlines()[-1] == "❯ hello" and log.text().count("──────") == 1


def test_preset_path_and_base_url_settings_and_resume_following_argv(tmp_path):
    (tmp_path / "settings").mkdir()
    cfg = tmp_path / "settings" / "config.json"
    cfg.write_text('{"agents": {"claude": {"path": "/opt/c/claude", "base_url": "http://127.0.0.1:9/"},'
                   ' "codex": {"argv": ["/opt/x/codex", "--flag"]}}}')
    presets = load_presets(tmp_path)
    assert presets["claude"].argv == ("/opt/c/claude", "--dangerously-skip-permissions")
    assert presets["claude"].resume_argv == ("/opt/c/claude", "--dangerously-skip-permissions", "--continue")
    assert presets["claude"].env["GASTOWN_MODEL_BASE_URL"] == "http://127.0.0.1:9"
    assert presets["codex"].resume_argv[0] == "/opt/x/codex"
    cfg.write_text('{"agents": {"claude": {"argv": ["claude"]}}}')  # dropped the skip flag: resume drops it too
    assert load_presets(tmp_path)["claude"].resume_argv == ("claude", "--continue")
    cfg.write_text('{"agents": {"claude": {"base_url": "localhost:9"}}}')
    with pytest.raises(PresetError, match="base_url"):
        load_presets(tmp_path)


def test_installed_version_runs_the_program_once_per_file():
    assert installed_version(sys.executable) == ".".join(map(str, sys.version_info[:3]))
    assert installed_version("/nonexistent/claude") is None
    assert installed_version("surely-not-a-program-gastown") is None
