"""What a patrol role's pane shows: the patrol's state, next wake, backoff, last runs and escalations."""
from __future__ import annotations

from gastown_tui.patrols.activity import ActivityLog, PatrolActivity
from gastown_tui.patrols.base import Decision, Patrol, Report, Timer
from gastown_tui.patrols.runner import PatrolRunner
from waiting import until as wait_for
from widgets.patrol_pane import render_activity


class Watcher(Patrol):
    """A witness-shaped patrol: escalates its second run's finding."""

    def __init__(self):
        self.name, self.role, self.rig, self.timer = "witness:textkit", "witness", "textkit", Timer(30, 300)
        self.runs = 0

    def concerns(self, change):
        return False

    def run(self, ctx):
        self.runs += 1
        if self.runs == 2:
            return Report(saw={"polecats": ["nux", "furiosa"]},
                          did=[Decision("escalate", "textkit/polecats/nux", "stuck for 80s", bead="tk-1")])
        return Report(saw={"polecats": ["nux", "furiosa"]})


def _town(tmp_path):
    (tmp_path / ".runtime").mkdir()
    (tmp_path / ".events.jsonl").write_text("")
    return tmp_path


async def test_the_activity_of_a_running_patrol_shows_its_runs_next_wake_and_escalations(tmp_path):
    patrol = Watcher()
    runner = PatrolRunner(_town(tmp_path), [patrol], watch=False)
    log = ActivityLog(runner)
    await runner.start()
    try:
        assert await wait_for(lambda: patrol.runs == 1)
        runner.wake("witness:textkit", reason="manual")
        assert await wait_for(lambda: log.activity("witness", "textkit").runs == 2)
        act = log.activity("witness", "textkit")
        assert act.state == "idle" and act.next_run_at is not None
        assert [r.reason for r in act.recent][0] == "manual"                # newest first
        assert act.recent[0].did == ("escalate textkit/polecats/nux tk-1",)
        assert act.recent[1].did == () and act.recent[1].saw == "polecats 2"
        assert act.escalations and "escalate textkit/polecats/nux tk-1" in act.escalations[0]
        # It travels as JSON (the server sends it to the app) and comes back the same.
        assert PatrolActivity.from_dict(act.to_dict()) == act
        text = render_activity(act).plain
        assert "Witness of textkit" in text and "no agent process" in text
        assert "next wake in" in text and "Escalated" in text and "woke on manual" in text
    finally:
        await runner.stop()
        log.close()


def test_a_role_whose_patrol_is_not_running_says_so():
    act = PatrolActivity("deacon", "deacon", None, "not running")
    text = render_activity(act, now=0.0, plain=True).plain
    assert text.startswith("[patrol] Deacon") and "state not running" in text and "none yet" in text
