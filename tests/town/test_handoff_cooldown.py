"""A second handoff within the cooldown (Gas Town's MinHandoffCooldown, 2 min) is refused and changes nothing."""
from __future__ import annotations

import json

from town_testkit import gastown


def _handoffs(town, address):
    from gastown_tui.town.mail import inbox

    events = [json.loads(line) for line in town.events_path.read_text().splitlines()]
    return ([e for e in events if e["type"] == "handoff" and e["actor"] == address],
            [m for m in inbox(town, address) if m.subject.startswith("🤝 HANDOFF")])


def test_second_handoff_within_two_minutes_is_refused_with_the_time_left(town, rig):
    env = {"GT_TOWN": str(town.root), "GT_AGENT": "calc/witness"}
    gastown("handoff", "-m", "first", cwd=town.root, env=env)
    proc = gastown("handoff", "-m", "second", cwd=town.root, env=env, check=False)
    assert proc.returncode == 1
    msg = proc.stderr.strip()
    assert "refusing handoff for calc/witness" in msg and "at least 120s apart" in msg, msg
    assert "timers.handoff_cooldown" in msg and "settings/config.json" in msg and "try again in 1" in msg, msg
    events, mails = _handoffs(town, "calc/witness")
    assert len(events) == 1 and [m.body for m in mails] == ["first"]
    # Another agent is not held back by calc/witness's cooldown.
    gastown("handoff", "-m", "mine", cwd=town.root, env={**env, "GT_AGENT": "calc/refinery"})


def test_the_cooldown_is_a_setting_and_passes(town, rig):
    import time

    from gastown_tui.errors import UserError
    from gastown_tui.town.handoff import HandoffTooSoon, request_handoff
    from gastown_tui.town.settings import TownSettings

    t0 = time.time()
    request_handoff(town, "calc/witness", "one", now=t0)
    try:
        request_handoff(town, "calc/witness", "two", now=t0 + 119)
        raise AssertionError("a handoff 119 s later should be refused")
    except HandoffTooSoon as exc:
        assert "1s" in str(exc)
    request_handoff(town, "calc/witness", "three", now=t0 + 121)        # the default 2 min have passed
    settings = TownSettings.load(town.settings_path)
    settings.data["timers"]["handoff_cooldown"] = "10s"
    settings.save()
    request_handoff(town, "calc/witness", "four", now=t0 + 132)
    settings.data["timers"]["handoff_cooldown"] = "0s"                  # off
    settings.save()
    request_handoff(town, "calc/witness", "five", now=t0 + 132.5)
    events, mails = _handoffs(town, "calc/witness")
    assert len(events) == 4 and sorted(m.body for m in mails) == ["five", "four", "one", "three"]
    settings.data["timers"]["handoff_cooldown"] = "soon"
    settings.save()
    try:
        request_handoff(town, "calc/witness", "six", now=t0 + 500)
        raise AssertionError("a bad duration should be refused")
    except UserError as exc:
        assert "timers.handoff_cooldown" in str(exc) and "soon" in str(exc)
