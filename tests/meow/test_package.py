"""The package's public names stay functions whatever was imported before (names load lazily)."""
import subprocess
import sys


def test_public_names_are_the_functions_in_a_fresh_process():
    code = (
        "import gastown_tui.meow.tracking, gastown_tui.meow.proto, gastown_tui.meow.molecule\n"
        "import gastown_tui.meow as m\n"
        "from gastown_tui.meow import progress, cook, pour, wisp, burn, squash, checklist, next_step, close_step\n"
        "bad = [n for n in m.__all__ if type(getattr(m, n)).__name__ == 'module']\n"
        "assert not bad, bad\n"
        "assert callable(progress) and callable(cook) and progress.__module__ == 'gastown_tui.meow.tracking'\n"
        "import sys; assert 'gastown_tui.meow.expand' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    lean = (
        "import sys\n"
        "from gastown_tui.meow import progress, checklist, close_step\n"
        "assert 'gastown_tui.meow.expand' not in sys.modules, 'progress pulled in the cooking engine'\n"
    )
    subprocess.run([sys.executable, "-c", lean], check=True)
