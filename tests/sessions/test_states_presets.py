"""State rules on real agent screens, stuck detection, presets and their overrides."""
from __future__ import annotations

import json

import pytest

from gastown_tui.sessions.presets import PresetError, load_presets
from gastown_tui.sessions.rules import Detector, Observation, Rule, RuleError
from gastown_tui.sessions.states import SessionState
from gastown_tui.sessions.vt import new_screen

W, A, I, S = SessionState.WORKING, SessionState.NEEDS_APPROVAL, SessionState.IDLE, SessionState.STUCK


def _replay_states(shared, name: str, chunk: int) -> list[tuple[SessionState, str]]:
    """Feeds a real capture in pieces and classifies after each, as a session would."""
    preset = load_presets()[name]
    raw = (shared / "captures" / f"{name}_session.raw").read_bytes()
    screen = new_screen(120, 40)
    osc = {}
    screen.on_osc = lambda n, p: osc.__setitem__("s", p.split(":")[0].partition("=")[2]) if n == 7501 else None
    det = Detector(list(preset.rules), preset.stuck_after, name)
    seen: list[tuple[SessionState, str]] = []
    for i in range(0, len(raw), chunk):
        screen.feed(raw[i:i + chunk])
        # Output is arriving as we classify (timing rules see "active").
        obs = Observation(screen.lines(), screen.cursor.y, screen.title, osc.get("s"), now=100.0, last_output_at=100.0)
        state, rule, _ = det.classify(obs)
        if not seen or seen[-1][0] != state:
            seen.append((state, rule))
    return seen


def _in_order(states: list[SessionState], wanted: list[SessionState]) -> bool:
    it = iter(states)
    return all(any(s == w for s in it) for w in wanted)


@pytest.mark.parametrize("name,chunk,wanted", [
    ("claude", 400, [I, W, A, W, I, A, W, I]),
    ("codex", 400, [I, W, I, W, A]),
    ("gemini", 2000, [I, W, I, W, I]),
    ("aider", 300, [I, W, I, A]),
])
def test_states_of_real_agent_sessions(shared, name, chunk, wanted):
    seen = _replay_states(shared, name, chunk)
    states = [s for s, _ in seen]
    assert _in_order(states, wanted), f"{name}: saw {seen}"
    # Every change names the rule that decided it.
    assert all(rule for _, rule in seen)


def test_codex_state_comes_from_osc_7501(shared):
    seen = _replay_states(shared, "codex", 400)
    rules = {rule for _, rule in seen}
    assert "codex.osc7501.working" in rules and "codex.osc7501.blocked" in rules


def test_stuck_is_working_with_only_spinners_and_clocks_changing():
    rules = [Rule.from_dict({"name": "t.working", "state": "working", "pattern": "esc to interrupt"})]
    det = Detector(rules, stuck_after=30, preset="t")
    frames = ["✻ Thinking… (1s · esc to interrupt)", "✽ Thinking… (2s · esc to interrupt)",
              "✢ Thinking… (9s · esc to interrupt)"]
    assert det.classify(Observation([frames[0]], 0, "", None, now=0.0, last_output_at=0.0))[0] is W
    assert det.classify(Observation([frames[1]], 0, "", None, now=20.0, last_output_at=20.0))[0] is W
    state, rule, detail = det.classify(Observation([frames[2]], 0, "", None, now=31.0, last_output_at=31.0))
    assert (state, rule) == (S, "timing.stuck") and "30s" in detail
    # Real progress (new text) is not stuck.
    state, _, _ = det.classify(Observation([frames[2], "wrote hello.txt"], 0, "", None, now=32.0, last_output_at=32.0))
    assert state is W


def test_starting_until_a_rule_matches_and_exited_wins():
    rules = [Rule.from_dict({"name": "t.idle", "state": "idle", "region": "cursor_line", "pattern": r"^\$"})]
    det = Detector(rules, preset="t")
    assert det.classify(Observation(["loading"], 0, "", None, 1.0, 1.0))[:2] == (SessionState.STARTING, "t.starting")
    assert det.classify(Observation(["$"], 0, "", None, 2.0, 2.0))[:2] == (I, "t.idle")
    assert det.classify(Observation(["$"], 0, "", None, 3.0, 3.0, exited=True))[:2] == (SessionState.EXITED, "process.exit")


@pytest.mark.parametrize("bad,message", [
    ({"name": "x", "state": "sleepy", "pattern": "a"}, "unknown state 'sleepy'"),
    ({"name": "x", "state": "idle", "pattern": "("}, "bad pattern regex"),
    ({"name": "x", "state": "idle", "region": "middle", "pattern": "a"}, "bad region 'middle'"),
    ({"name": "x", "state": "idle"}, "has no condition"),
    ({"name": "x", "state": "stuck", "quiet_for": 3}, "decided by the session"),
    ({"name": "x", "state": "idle", "patern": "a"}, "unknown keys ['patern']"),
])
def test_bad_rules_are_named(bad, message):
    with pytest.raises(RuleError, match=message.replace("[", r"\[").replace("(", r"\(")):
        Rule.from_dict(bad)


def test_every_preset_exists_with_a_command_and_rules():
    presets = load_presets()
    for name in ("claude", "codex", "gemini", "aider", "opencode", "amp", "shell", "sim"):
        p = presets[name]
        assert p.argv and p.rules, name
    claude = presets["claude"]
    assert claude.command("[GAS TOWN] beacon")[-1] == "[GAS TOWN] beacon"
    assert presets["gemini"].command("hi")[-2:] == ["-i", "hi"]
    assert presets["sim"].command("hi")[-1] != "hi"  # sim takes its beacon typed in (paste)
    assert claude.command("hi", resume=True) == list(claude.resume_argv)


def test_town_settings_override_a_preset_key_by_key(tmp_path):
    (tmp_path / "settings").mkdir()
    (tmp_path / "settings" / "config.json").write_text(json.dumps({
        "agents": {
            "claude": {"argv": ["claude"], "env": {"CLAUDE_CONFIG_DIR": "/x"}, "stuck_after": 120},
            "mybot": {"argv": ["mybot", "--auto"], "rules": [{"name": "mybot.idle", "state": "idle", "quiet_for": 2}]},
        }}))
    presets = load_presets(tmp_path)
    claude = presets["claude"]
    assert claude.argv == ("claude",) and claude.stuck_after == 120
    assert claude.env["CLAUDE_CONFIG_DIR"] == "/x" and claude.env["IS_SANDBOX"] == "1"  # env merged, not replaced
    assert claude.rules == load_presets()["claude"].rules  # untouched keys stay
    assert presets["mybot"].argv == ("mybot", "--auto")


@pytest.mark.parametrize("config,message", [
    ('{"agents": {"claude": {"argv": "claude --yolo"}}}', "never a shell string"),
    ('{"agents": {"claude": {"beacon": "shout"}}}', "'beacon' must be"),
    ('{"agents": {"claude": {"rules": [{"name": "r", "state": "idle", "pattern": "["}]}}}', "bad pattern regex"),
    ('{"agents": {"claude": {"argv": ["c"],\n "sleepiness": 3}}}', "unknown keys ['sleepiness']"),
    ('{"agents": {\n "claude": }', "config.json:2: not valid JSON"),
])
def test_bad_settings_name_the_file_and_the_problem(tmp_path, config, message):
    (tmp_path / "settings").mkdir()
    (tmp_path / "settings" / "config.json").write_text(config)
    with pytest.raises(PresetError) as err:
        load_presets(tmp_path)
    assert message in str(err.value)
    assert "config.json" in str(err.value)
