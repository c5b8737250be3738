"""A mail list (the Overseer's inbox on the Town screen; any address on the Mail screen)."""
from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from widgets.view_models import MailView


def mail_line(mail: MailView) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("● " if not mail.read else "  ", style="bold")
    text.append(f"{mail.sender} ", style="italic" if mail.read else "bold italic")
    text.append(mail.subject, style="" if mail.read else "bold")
    return text


class InboxList(OptionList):
    """Mail, newest first; unread marked. Border title carries the unread count."""

    @dataclass
    class MailChosen(Message):
        mail_id: str

    def __init__(self, title: str = "Inbox", **kwargs) -> None:
        super().__init__(**kwargs)
        self.title = title
        self._key: tuple = ()
        self.mails: list[MailView] = []

    def show_mail(self, mails: list[MailView]) -> None:
        unread = sum(1 for m in mails if not m.read)
        title = f"{self.title} ({unread} unread)"
        if title != self.border_title:  # setting a title repaints the whole list
            self.border_title = title
        key = tuple(mails)
        if key == self._key:
            return
        self._key = key
        self.mails = list(mails)
        highlighted = self.highlighted
        self.clear_options()
        if mails:
            self.add_options([Option(mail_line(m), id=m.id) for m in mails])
            if highlighted is not None:
                self.highlighted = min(highlighted, len(mails) - 1)
        else:
            self.add_option(Option(Text("no mail", style="dim"), disabled=True))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.MailChosen(event.option.id))
