"""Mail: the inbox and threads of any address (the Overseer's by default); compose and reply."""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Static

from gastown_tui.screens.form import Field, FormScreen
from gastown_tui.ui.keys import MAIL_KEYS, bindings
from gastown_tui.server.reading import MailFacts
from gastown_tui.ui.town_view import OVERSEER, TownViewBuilder
from widgets.inbox import InboxList
from gastown_tui.screens.headed_screen import HeadedScreen
from widgets.view_models import MailView, TownView


def thread_text(mails: list[MailView]) -> Text:
    text = Text()
    for m in mails:
        text.append(f"{m.timestamp[:19]}  ", style="dim")
        text.append(f"{m.sender} → {m.to}\n", style="bold")
        text.append(f"{m.subject}\n", style="italic")
        text.append(f"{m.body.strip()}\n\n" if m.body.strip() else "(no body)\n\n")
    return text


class MailScreen(HeadedScreen):
    BINDINGS = bindings(MAIL_KEYS)

    def __init__(self, mail_id: str | None = None, address: str = OVERSEER) -> None:
        super().__init__(id="mail")
        self.address = address
        self.wanted = mail_id
        self.selected: MailView | None = None

    def compose(self) -> ComposeResult:
        yield self.town_header()
        with Horizontal(id="mail-body"):
            yield InboxList(title="Inbox", id="mail-list")
            with VerticalScroll(id="mail-thread-box"):
                yield Static("", id="mail-thread")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#mail-thread-box").border_title = "Thread"
        self.query_one("#mail-thread", Static).update(
            Text("enter opens the highlighted mail and its thread · r replies · w writes · A shows another inbox",
                 style="dim"))
        if self.app.controller.view is not None:
            self.show_town(self.app.controller.view)
        self.load()
        self.query_one(InboxList).focus()

    def show_town(self, view: TownView) -> None:
        self.header_title = f"Mail · {self.address}"
        super().show_town(view)

    def action_finished(self, _message) -> None:
        self.load()

    def load(self) -> None:
        self.app.load("mail.inbox", self._loaded, group="mail-load", owner=self, address=self.address)

    def _loaded(self, found: list[dict] | None, error: str | None) -> None:
        mails = _mail_views(found)
        mails.sort(key=lambda m: m.timestamp, reverse=True)
        inbox = self.query_one(InboxList)
        inbox.title = f"Inbox of {self.address}"
        inbox.show_mail(mails)
        if error:
            inbox.border_title = f"Inbox of {self.address}: {error}"
        if self.wanted:
            ids = [m.id for m in mails]
            if self.wanted in ids:
                inbox.highlighted = ids.index(self.wanted)
                self.open_mail(self.wanted)
            self.wanted = None

    @on(InboxList.MailChosen)
    def _chosen(self, event: InboxList.MailChosen) -> None:
        self.open_mail(event.mail_id)

    @on(InboxList.OptionHighlighted)
    def _highlighted(self, event) -> None:
        if event.option.id:
            self.selected = next((m for m in self.query_one(InboxList).mails if m.id == event.option.id), None)

    def open_mail(self, mail_id: str) -> None:
        self.selected = next((m for m in self.query_one(InboxList).mails if m.id == mail_id), self.selected)
        self.load_thread(mail_id)

    def load_thread(self, mail_id: str) -> None:
        self.app.load("mail.thread", lambda found, error: self._thread_loaded(mail_id, found, error),
                      group="mail-thread", owner=self, mail_id=mail_id)

    def _thread_loaded(self, mail_id: str, found: list[dict] | None, error: str | None) -> None:
        mails = _mail_views(found)
        box = self.query_one("#mail-thread", Static)
        box.update(Text(error, style="red") if error else thread_text(mails))
        self.query_one("#mail-thread-box").border_title = f"Thread ({len(mails)})"
        mail = next((m for m in mails if m.id == mail_id), None)
        if mail is not None and not mail.read and mail.to == self.address:  # opened: read (then re-read the town)
            self.app.load("mail.mark_read", lambda _done, _error: self.app.refresh_town(), group="mail-mark-read",
                          mail_id=mail_id)
        else:
            self.app.refresh_town()

    def action_compose(self) -> None:
        def send(v):
            if v:
                self.app.act(f"mail to {v['to']}", "mail.send", to=v["to"].strip(), subject=v["subject"],
                             body=v["body"], sender=self.address)

        self.app.push_screen(FormScreen(f"New mail from {self.address}", [
            Field("to", "To (address or @group)"), Field("subject", "Subject"),
            Field("body", "Body", multiline=True, required=False)]), send)

    def action_reply(self) -> None:
        mail = self.selected
        if mail is None:
            self.notify("choose a mail to reply to", severity="warning")
            return
        subject = mail.subject if mail.subject.lower().startswith("re:") else f"Re: {mail.subject}"

        def send(v):
            if v:
                self.app.act(f"reply to {mail.sender}", "mail.send", to=mail.sender, subject=v["subject"],
                             body=v["body"], reply_to=mail.id, sender=self.address)

        self.app.push_screen(FormScreen(f"Reply to {mail.sender}", [
            Field("subject", "Subject", subject), Field("body", "Body", multiline=True)]), send)

    def action_choose_address(self) -> None:
        def chosen(v):
            if v:
                self.address = v["address"].strip()
                self.selected = None
                self.query_one("#mail-thread", Static).update("")
                if self.app.controller.view:
                    self.show_town(self.app.controller.view)
                self.load()

        self.app.push_screen(FormScreen("Show the inbox of", [Field("address", "Address", self.address)]), chosen)

    def action_back(self) -> None:
        self.app.open_screen("town")


def _mail_views(found: list[dict] | None) -> list[MailView]:
    return [TownViewBuilder.mail_view(MailFacts(**m)) for m in found or ()]
