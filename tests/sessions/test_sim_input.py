"""The simulated agent's keyboard decoding (gastown_tui/sim/input.py)."""
from gastown_tui.sim.input import InputParser, Key


def test_text_keys_and_sequences_across_read_boundaries():
    p = InputParser()
    events = p.feed(b"hi\x1b[A there\r")  # an arrow key in the middle is swallowed
    assert events == [Key("text", "hi there"), Key("enter")]
    e_acute = "é".encode()
    assert p.feed(e_acute[:1]) == []  # half a UTF-8 character waits for the rest
    assert p.feed(e_acute[1:] + b"\x7f\x03\x04\x15") == [
        Key("text", "é"), Key("backspace"), Key("ctrl_c"), Key("ctrl_d"), Key("ctrl_u")]


def test_bracketed_paste_is_literal_even_when_split():
    p = InputParser()
    assert p.feed(b"\x1b[200~line one\rline", final=False) == []
    assert p.feed(b" two\x1b[20", final=False) == []
    assert p.feed(b"1~\r") == [Key("paste", "line one\nline two"), Key("enter")]


def test_a_lone_escape_is_the_escape_key_only_at_the_end_of_a_read():
    p = InputParser()
    assert p.feed(b"\x1b", final=False) == []
    assert p.feed(b"[B") == []  # it was the start of an arrow key
    assert p.feed(b"\x1b") == [Key("esc")]
