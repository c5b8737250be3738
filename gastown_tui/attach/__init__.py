"""`gastown attach AGENT`: one agent's screen in a plain terminal, over the town server's socket."""
