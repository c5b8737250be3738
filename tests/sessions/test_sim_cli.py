"""`gastown agent ...` on the command line: bad input gets a clear error."""
import subprocess
import sys


def gastown(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "gastown_tui.cli", *args], capture_output=True, text=True,
                          cwd=cwd, stdin=subprocess.DEVNULL, timeout=30)


def test_missing_directory_is_named(tmp_path):
    proc = gastown("agent", "sim", "--dir", str(tmp_path / "nowhere"))
    assert proc.returncode == 1
    assert f"{tmp_path / 'nowhere'}: not a directory" in proc.stderr


def test_unknown_agent_and_no_agent():
    proc = gastown("agent", "claude")
    assert proc.returncode == 2 and "invalid choice: 'claude'" in proc.stderr
    proc = gastown("agent")
    assert proc.returncode == 2 and "sim" in proc.stdout


def test_sim_without_a_terminal_still_works_and_exits_on_end_of_input(tmp_path):
    """Piped input (no TTY): the sim says it is simulated, reports it has no town, and ends at EOF."""
    proc = subprocess.run([sys.executable, "-m", "gastown_tui.cli", "agent", "sim"], input="hello\n",
                          capture_output=True, text=True, cwd=tmp_path, timeout=30)
    assert proc.returncode == 0
    assert "SIMULATED" in proc.stdout
    assert "✗ failed:" in proc.stdout  # `gt prime` has no town here; said on screen, not a crash
