"""Carries out the simulated agent's instructions in its worktree.

Real file edits, real processes, real ``git``. Everything stays inside the
worktree: paths are resolved and refused when they would leave it. Every
action reports what it did through the `log` callback (one line at a time);
a failure raises `SimFailure`, `sim: hang` raises `SimHang`, an interrupt
(Esc on the agent's screen) raises `SimInterrupted`.
"""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Callable

from gastown_tui.atomicfile import write_atomic
from gastown_tui.sim.script import Action, parse_rebase_arg


class SimFailure(Exception):
    """The work cannot go on; the message says why (shown on screen, work stays hooked)."""


class SimHang(Exception):
    """`sim: hang`: the agent must look stuck from now on."""


class SimInterrupted(Exception):
    """The user pressed Esc while the agent was working."""


Log = Callable[[str], None]


class Workspace:
    """A worktree the simulated agent works in."""

    def __init__(self, root: Path, log: Log, stop: Callable[[], bool] = lambda: False,
                 env: dict[str, str] | None = None, target: str = "main",
                 ask: Callable[[str], bool] | None = None):
        self.root = Path(root).resolve()
        self.log = log
        self.stop = stop
        self.ask = ask  # asks the person at the terminal a y/n question; None: nobody to ask
        self.env = dict(os.environ if env is None else env)
        self.target = target

    # -- helpers ---------------------------------------------------------
    def _path(self, rel: str, action: Action) -> Path:
        path = (self.root / rel).resolve()
        if path != self.root and self.root not in path.parents:
            raise SimFailure(f"{action.where}: {rel!r} is outside the worktree")
        return path

    def _check_stop(self) -> None:
        if self.stop():
            raise SimInterrupted()

    def _proc(self, argv: list[str], *, shell_cmd: str | None = None, check: bool = True,
              timeout: float = 600) -> subprocess.CompletedProcess:
        """Runs a process in the worktree, interruptible, output captured."""
        cmd = ["/bin/sh", "-c", shell_cmd] if shell_cmd is not None else argv
        proc = subprocess.Popen(cmd, cwd=self.root, env=self.env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                errors="replace", start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            try:
                out, _ = proc.communicate(timeout=0.05)
                break
            except subprocess.TimeoutExpired:
                if self.stop() or time.monotonic() > deadline:
                    try:
                        os.killpg(proc.pid, 9)
                    except ProcessLookupError:
                        pass
                    proc.communicate()
                    if self.stop():
                        raise SimInterrupted() from None
                    raise SimFailure(f"{' '.join(cmd)} took longer than {timeout:.0f}s") from None
        result = subprocess.CompletedProcess(cmd, proc.returncode, out, "")
        if check and proc.returncode != 0:
            tail = "\n".join(out.strip().splitlines()[-5:])
            raise SimFailure(f"`{' '.join(argv or [shell_cmd or ''])}` exited {proc.returncode}: {tail}")
        return result

    def git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self._proc(["git", *args], check=check)

    # -- actions ---------------------------------------------------------
    def run(self, action: Action) -> None:
        self._check_stop()
        getattr(self, f"do_{action.kind}")(action)

    def do_write(self, action: Action) -> None:
        path = self._path(action.arg, action)
        existed = path.exists()
        write_atomic(path, action.body or "")
        n = (action.body or "").count("\n")
        self.log(f"{'Updated' if existed else 'Created'} {action.arg} ({n} line{'s' if n != 1 else ''})")

    def do_append(self, action: Action) -> None:
        path = self._path(action.arg, action)
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        body = action.body or ""
        if old.endswith(body) and body:
            self.log(f"{action.arg} already ends with this text; nothing to append")
            return
        sep = "" if not old or old.endswith("\n") else "\n"
        write_atomic(path, old + sep + body)
        self.log(f"Appended {body.count(chr(10))} line(s) to {action.arg}")

    def do_run(self, action: Action) -> None:
        result = self._proc([], shell_cmd=action.arg, check=False)
        lines = result.stdout.rstrip().splitlines()
        for line in lines[-8:]:
            self.log(f"  {line}")
        if len(lines) > 8:
            self.log(f"  … +{len(lines) - 8} lines")
        if result.returncode != 0:
            raise SimFailure(f"{action.where}: `{action.arg}` exited with status {result.returncode}")
        self.log("exit 0")

    def do_commit(self, action: Action) -> None:
        self.git("add", "-A")
        if self.git("diff", "--cached", "--quiet", check=False).returncode == 0:
            self.log("nothing to commit (already committed)")
            return
        self.git("commit", "-q", "-m", action.arg)
        sha = self.git("rev-parse", "--short", "HEAD").stdout.strip()
        self.log(f"[{sha}] {action.arg}")

    def do_sleep(self, action: Action) -> None:
        end = time.monotonic() + float(action.arg)
        while time.monotonic() < end:
            self._check_stop()
            time.sleep(min(0.05, max(0.0, end - time.monotonic())))

    def do_fail(self, action: Action) -> None:
        raise SimFailure(action.arg or f"instructed to fail ({action.where})")

    def do_hang(self, action: Action) -> None:
        raise SimHang()

    def do_ask(self, action: Action) -> None:
        if self.ask is None:
            raise SimFailure(f"{action.where}: nobody to ask {action.arg!r}")
        if not self.ask(action.arg):
            raise SimFailure(f"declined: {action.arg}")
        self.log("approved")

    def do_rebase(self, action: Action) -> None:
        ref, strategy = parse_rebase_arg(action.arg, action.where)
        ref = ref or self._default_target()
        self.log(f"rebasing onto {ref}")
        result = self._proc(["git", "rebase", ref], check=False)
        rounds = 0
        while self._rebase_in_progress():
            rounds += 1
            if rounds > 200:
                raise SimFailure(f"{action.where}: rebase onto {ref} did not finish after 200 rounds")
            conflicted = [f for f in self.git("diff", "--name-only", "--diff-filter=U").stdout.splitlines() if f]
            said = result.stdout.lower()
            if not conflicted and not any(w in said for w in ("conflict", "could not apply", "no changes")):
                self.git("rebase", "--abort", check=False)  # stopped for some other reason: change nothing
                raise SimFailure(f"{action.where}: git rebase {ref} failed: {result.stdout.strip()[-300:]}")
            for rel in conflicted:
                self._resolve(rel, strategy)
                self.log(f"resolved conflict in {rel} ({strategy})")
            if self.git("diff", "--cached", "--quiet", check=False).returncode == 0:
                result = self._proc(["git", "rebase", "--skip"], check=False)  # the commit became empty
            else:
                result = self._proc(["git", "-c", "core.editor=true", "rebase", "--continue"], check=False)
        if self.git("merge-base", "--is-ancestor", ref, "HEAD", check=False).returncode != 0:
            raise SimFailure(f"{action.where}: git rebase {ref} failed: {result.stdout.strip()[-300:]}")
        head = self.git("rev-parse", "--short", "HEAD").stdout.strip()
        self.log(f"rebased onto {ref}; HEAD is {head}")
        self._push_rebased()

    def _push_rebased(self) -> None:
        """A branch pushed before the rebase is force-pushed (with lease), so `gt done` can push again."""
        branch = self.git("rev-parse", "--abbrev-ref", "HEAD").stdout.strip()
        if branch == "HEAD" or "origin" not in self.git("remote").stdout.split():
            return
        if self.git("ls-remote", "--exit-code", "origin", f"refs/heads/{branch}", check=False).returncode != 0:
            return
        self.git("push", "-q", "--force-with-lease", "origin", f"HEAD:refs/heads/{branch}")
        self.log(f"force-pushed the rebased {branch}")

    # -- rebase helpers --------------------------------------------------
    def _default_target(self) -> str:
        remotes = self.git("remote").stdout.split()
        if "origin" in remotes:
            self.git("fetch", "-q", "origin")
            if self.git("rev-parse", "--verify", "-q", f"origin/{self.target}", check=False).returncode == 0:
                return f"origin/{self.target}"
        return self.target

    def _rebase_in_progress(self) -> bool:
        git_dir = Path(self.git("rev-parse", "--git-dir").stdout.strip())
        if not git_dir.is_absolute():
            git_dir = self.root / git_dir
        return (git_dir / "rebase-merge").exists() or (git_dir / "rebase-apply").exists()

    def _resolve(self, rel: str, strategy: str) -> None:
        path = self.root / rel
        if not path.exists():
            self.git("rm", "-q", "--", rel, check=False)
            return
        text = path.read_text(encoding="utf-8", errors="replace")
        write_atomic(path, resolve_conflict_text(text, strategy))
        self.git("add", "--", rel)


def resolve_conflict_text(text: str, strategy: str) -> str:
    """Resolves git conflict markers in `text`.

    During a rebase the first side (after ``<<<<<<<``) is the target, the second
    (before ``>>>>>>>``) is this branch's commit. `union` keeps target then branch
    lines (both whole; identical sides once), `target` keeps the first side,
    `branch` keeps the second. A diff3 base section (``|||||||``) is dropped.
    """
    out: list[str] = []
    state = None
    first: list[str] = []
    second: list[str] = []
    for line in text.splitlines(keepends=True):
        if state is None and line.startswith("<<<<<<<"):
            state, first, second = "first", [], []
        elif state == "first" and line.startswith("|||||||"):
            state = "base"
        elif state in ("first", "base") and line.startswith("======="):
            state = "second"
        elif state == "second" and line.startswith(">>>>>>>"):
            if strategy == "target":
                out += first
            elif strategy == "branch":
                out += second
            else:
                out += first if first == second else first + second
            state = None
        elif state == "first":
            first.append(line)
        elif state == "second":
            second.append(line)
        elif state is None:
            out.append(line)
    if state is not None:
        raise SimFailure("unterminated conflict markers")
    return "".join(out)
