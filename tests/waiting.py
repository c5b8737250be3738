"""`until`: the shared raising wait (tests/kit/waiting.py), under the name the tests import."""
from kit.waiting import until  # noqa: F401
