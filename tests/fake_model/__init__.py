"""A fake model API server (stdlib only) that real agent CLIs talk to in tests.

See server.py for the server and brain.py for the scripted decisions.
"""
from .brain import Brain, Conversation, Reply, Rule, Say, Shell, Write
from .server import FakeModel
from .usage import Usage

__all__ = ["Brain", "Conversation", "FakeModel", "Reply", "Rule", "Say", "Shell", "Usage", "Write"]
