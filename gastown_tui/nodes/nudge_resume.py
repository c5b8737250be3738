"""A nudge the previous town server was typing into a node's program when it died (docs/nodes.md, "A
restarted town re-adopts its nodes' programs").

Before typing a nudge, a RemoteSession writes into its durable record which nudge it is (a digest of its
text), and before each of its keys goes to the link, that key's input id and whether it is the text or
Enter (a small write to the page cache: it survives the server being killed). A server killed mid-nudge
leaves the nudge claimed but not marked delivered, so the restarted server delivers it again; the adopted
session compares with what the node says it took (the last input id, at the claim): Enter taken — the
nudge was submitted, nothing is typed; only the text taken — Enter is pressed; nothing taken — it is typed
as usual. So a nudge is typed once whichever server types it."""
from __future__ import annotations

from typing import TYPE_CHECKING

from gastown_tui.nodes.remote_submit import settled_link
from gastown_tui.sessions.states import NudgeResult
from gastown_tui.sessions.submit import (cursor_line, press_enter_until_taken, remove_whitespace, sanitize,
                                         wait_until_quiet)

if TYPE_CHECKING:
    from gastown_tui.nodes.remote_session import RemoteSession


def typed_before(session: "RemoteSession", mark: dict | None, digest: str) -> str | None:
    """What of the nudge with DIGEST the previous server had got typed, if it was the one it was typing
    (MARK, from the session's record: its inputs, each recorded before it was sent, with its id): "enter"
    (its Enter reached the program: it was submitted), "text" (only its text), or None (nothing of it, or
    another nudge: type it as usual). The node said, at the claim, the last input id it took."""
    if not mark or mark.get("digest") != digest or session.sid is None:
        return None
    taken = session.link.inputs.adopted_last_iid.get(session.sid)
    if taken is None:
        return None
    kinds = {kind for iid, kind in mark.get("inputs") or [] if int(iid) <= taken}
    return "enter" if "enter" in kinds else ("text" if kinds else None)


async def finish_typed(session: "RemoteSession", text: str, taken: str) -> NudgeResult:
    """The previous server's nudge, finished: nothing more when its Enter was taken; else Enter, retried
    as the usual rule does (sessions/submit.py), its waits counting only the time the link was settled."""
    if taken == "enter":
        return NudgeResult(True, 0)
    clean = sanitize(text, multiline=session.screen.modes.bracketed_paste)
    frag = remove_whitespace(clean)[-8:]
    await wait_until_quiet(session, lambda: settled_link(session))
    if frag and not cursor_line(session).endswith(frag):
        frag = ""  # the program does not show the text on its input line: the screen changing says it took it
    return await press_enter_until_taken(session, frag, lambda: settled_link(session))
