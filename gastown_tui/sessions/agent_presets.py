"""Presets for the real agent CLIs, checked against their real screens.

`presets.load_presets()` merges each entry here key by key over the built-in
preset of the same name (see docs/contracts.md, sessions). What is here was
verified by the `agents` tests (tests/agents/) running the real programs in a
PTY against the fake model server: Claude Code 2.1.197 and 2.1.337, Codex CLI
0.169.0 and 0.171.0, Gemini CLI 0.61.0, aider 0.86.2 and opencode 1.18.33
(pinned in .ci/install-agents; each preset's `verified` says which). Rules
whose screens differ between versions carry a `versions` range (rules.py). amp cannot run without its vendor's service: its entry is
an unverified default and says so (the needs-approval rule of opencode was not
seen either: its polecats run with every permission allowed).

Each CLI also needs its own configuration home so that no first-run dialog
blocks it: `gastown_tui.sessions.homes.home_env()` prepares it; the preset's
program name (argv[0]) says which CLI it is.

Rules are tried in order, first match wins; states are the session's
(`working`, `needs-approval`, `idle`; `stuck` is decided by timing on top of
`working`, `stuck_after` seconds without a screen change).
"""
from __future__ import annotations

_BRAILLE = r"^[\u2800-\u28ff]"  # a braille spinner glyph first in the title

PRESETS: dict[str, dict] = {
    "claude": {
        "description": "Claude Code",
        "verified": ">=2.1.197,<=2.1.337",
        # Polecats run unattended; a town can drop the flag in settings/config.json to be asked (then every
        # dialog below that waits for a person reads as needs-approval, and the Witness escalates it).
        "argv": ["claude", "--dangerously-skip-permissions"],
        "env": {"IS_SANDBOX": "1", "DISABLE_AUTOUPDATER": "1"},
        "beacon": "arg",  # `claude "<beacon>"` opens the TUI and submits it as the first prompt
        "resume_argv": ["claude", "--dangerously-skip-permissions", "--continue"],
        "quit_keys": ["ctrl+c", "ctrl+c"],  # or /exit; it prints "Resume this session with: claude --resume <id>"
        "escape_cancels": False,
        "ready_timeout": 60.0,
        "process_names": ["claude"],
        "rules": [
            # 2.1.197 draws inline from the top of the screen, 2.1.337 on the alternate screen: footer texts
            # are looked for on the whole screen. Dialogs that wait for a person come first, so that a dialog
            # is never read as working or idle (the title keeps its idle ✳ under a dialog).
            {"name": "claude.needs-approval.trust", "state": "needs-approval", "region": "all",
             "pattern": r"Is this a project you created or one you trust|Yes, I trust this folder"},
            {"name": "claude.needs-approval.api-key", "state": "needs-approval", "region": "all",
             "pattern": r"Detected a custom API key|Do you want to use this API key\?"},
            # Auto mode (the default from 2.1.3xx) behind a gateway that does not pass its server-side check:
            # first "Auto mode can't check actions in this session … Enter to stay in auto mode", then a
            # per-action "Do you want to proceed?" whose preselected answer is No.
            {"name": "claude.needs-approval.auto-mode", "state": "needs-approval", "region": "all",
             "versions": ">2.1.197",
             "pattern": r"Enter to stay in auto mode|so this one needs your approval"},
            {"name": "claude.needs-approval.dialog", "state": "needs-approval", "region": "all",
             "pattern": r"Do you want to (create|proceed|make this edit|overwrite)|Esc to cancel · Tab to amend"},
            # 2.1.197's footer says "Not logged in · Run /login" while it lasts; 2.1.337 answers a prompt with
            # "Not logged in · Please run /login" (which stays in the conversation) and leaves "Once fixed, resend
            # your message" in the input box until someone types: that placeholder is what is matched.
            {"name": "claude.needs-approval.login", "state": "needs-approval", "region": "all",
             "pattern": r"Not logged in · Run /login|Once fixed, resend your message|Select login method"},
            # "API error · Retrying in 4s · attempt 4/10" (2.1.197);
            # "✻ 529 overloaded · retrying in 7s · attempt 6/10" (2.1.337).
            {"name": "claude.working.api-retry", "state": "working", "region": "all",
             "pattern": r"[Rr]etrying in \d+s · attempt \d+/\d+"},
            {"name": "claude.working.esc-to-interrupt", "state": "working", "region": "all",
             "pattern": r"esc to interrupt"},
            {"name": "claude.working.title-spinner", "state": "working", "title": _BRAILLE, "versions": "<=2.1.197"},
            {"name": "claude.working.title-spinner", "state": "working", "title": r"^[◐◓◑◒]",
             "versions": ">2.1.197"},
            # 2.1.197: "? for shortcuts"; 2.1.337 shows the permission mode instead ("⏵⏵ auto mode on
            # (shift+tab to cycle)", "⏵⏵ bypass permissions on …", "⏸ plan mode on …").
            {"name": "claude.idle.footer", "state": "idle", "region": "all", "versions": "<=2.1.197",
             "pattern": r"\? for shortcuts|⏵⏵ bypass permissions on"},
            {"name": "claude.idle.footer", "state": "idle", "region": "all", "versions": ">2.1.197",
             "pattern": r"⏵⏵ [a-z ]+ on \(shift\+tab to cycle\)|⏸ plan mode on|\? for shortcuts"},
            {"name": "claude.idle.title", "state": "idle", "title": r"^✳"},
        ],
    },
    "codex": {
        "description": "OpenAI Codex CLI",
        "verified": ">=0.169.0,<=0.171.0",
        "argv": ["codex", "--dangerously-bypass-approvals-and-sandbox"],
        "beacon": "arg",  # `codex "<beacon>"` opens the TUI and submits it
        "resume_argv": ["codex", "resume", "--last", "--dangerously-bypass-approvals-and-sandbox"],
        "quit_keys": ["ctrl+c", "ctrl+c"],
        "escape_cancels": True,
        "ready_timeout": 30.0,
        # The home sets features.daemon_auto_start=false: no detached app-server outlives the session.
        "process_names": ["codex"],
        "rules": [
            {"name": "codex.osc7501.blocked", "state": "needs-approval", "osc7501": "blocked"},
            # First-run screens that wait for a person (no OSC 7501 state yet): folder trust, login.
            {"name": "codex.needs-approval.trust", "state": "needs-approval", "region": "all",
             "pattern": r"Trust this folder\?|Do you trust the files in this folder"},
            {"name": "codex.needs-approval.login", "state": "needs-approval", "region": "all",
             "pattern": r"Sign in with ChatGPT"},
            {"name": "codex.needs-approval.dialog", "state": "needs-approval", "region": "bottom:20",
             "pattern": r"Would you like to run the following command\?|Press enter to confirm or esc to cancel"},
            {"name": "codex.osc7501.working", "state": "working", "osc7501": "working"},
            {"name": "codex.working.esc-to-interrupt", "state": "working", "region": "bottom:10",
             "pattern": r"esc to interrupt"},
            {"name": "codex.working.title-spinner", "state": "working", "title": _BRAILLE},
            {"name": "codex.osc7501.idle", "state": "idle", "osc7501": "idle"},
            {"name": "codex.osc7501.done", "state": "idle", "osc7501": "done"},
            {"name": "codex.idle.prompt", "state": "idle", "region": "bottom:10", "pattern": r"› Ask Codex"},
        ],
    },
    "gemini": {
        "description": "Gemini CLI",
        "verified": "==0.61.0",
        "argv": ["gemini", "--approval-mode", "yolo"],
        "beacon": "flag:-i",  # --prompt-interactive: run the beacon, then stay interactive
        "resume_argv": ["gemini", "--approval-mode", "yolo", "--resume", "latest"],
        "quit_keys": ["ctrl+c", "ctrl+c"],  # or /quit
        "escape_cancels": True,
        "ready_timeout": 40.0,
        "process_names": ["gemini", "node"],
        "rules": [
            {"name": "gemini.needs-approval.title", "state": "needs-approval", "title": r"✋|Action Required"},
            {"name": "gemini.needs-approval.trust", "state": "needs-approval", "region": "all",
             "pattern": r"Do you trust the files in this folder\?"},
            {"name": "gemini.needs-approval.login", "state": "needs-approval", "region": "all",
             "pattern": r"How would you like to authenticate"},
            {"name": "gemini.needs-approval.dialog", "state": "needs-approval", "region": "all",
             "pattern": r"Apply this change\?|Allow execution of"},
            {"name": "gemini.working.title", "state": "working", "title": r"^✦|Working…"},
            {"name": "gemini.working.esc-to-cancel", "state": "working", "region": "all",
             "pattern": r"esc to cancel"},
            {"name": "gemini.idle.title", "state": "idle", "title": r"^◇|Ready \("},
            {"name": "gemini.idle.prompt", "state": "idle", "region": "all", "pattern": r"Type your message"},
        ],
    },
    "aider": {
        "description": "aider",
        "verified": "==0.86.2",
        # Flags live in the home's .aider.conf.yml (no update check, no analytics, diff edit format, model).
        "argv": ["aider"],
        "beacon": "paste",  # typed at the `diff>` prompt once it is idle
        "resume_argv": ["aider", "--restore-chat-history"],
        # ^C clears a half-typed line; /exit then quits (stop() types a non-key as text). Two ^C 0.15 s
        # apart were measured to lose the second one under load.
        "quit_keys": ["ctrl+c", "/exit\r"],
        "escape_cancels": False,
        "ready_timeout": 40.0,
        "process_names": ["aider", "python", "python3"],
        "rules": [
            # aider asks before every shell command, even with --yes-always (which answers No to them).
            {"name": "aider.needs-approval.question", "state": "needs-approval", "region": "last_line",
             "pattern": r"\(Y\)es/\(N\)o.*\[(Yes|No)\]: ?\S*$"},
            {"name": "aider.working.waiting", "state": "working", "region": "bottom:4", "pattern": r"Waiting for|█░|░█"},
            {"name": "aider.idle.prompt", "state": "idle", "region": "last_line", "pattern": r"^(\w+)?>\s*$"},
            {"name": "aider.working.output", "state": "working", "active_within": 2.0},
        ],
    },
    "opencode": {
        "description": "opencode",
        "verified": "==1.18.33",
        "argv": ["opencode"],
        "env": {"OPENCODE_PERMISSION": '{"*":"allow"}'},
        "beacon": "flag:--prompt",  # `opencode --prompt "<beacon>"` opens the TUI and submits it
        "resume_argv": ["opencode", "--continue"],
        "quit_keys": ["ctrl+c", "ctrl+c"],
        "escape_cancels": True,
        "ready_timeout": 40.0,
        "process_names": ["opencode"],
        "rules": [
            # A full-screen TUI: the footer is the last row. Working shows a progress bar and "esc interrupt".
            {"name": "opencode.working.esc-interrupt", "state": "working", "region": "bottom:3",
             "pattern": r"esc (to )?interrupt"},
            {"name": "opencode.needs-approval.permission", "state": "needs-approval", "region": "bottom:15",
             "pattern": r"Permission required|Allow (once|always)"},
            # A long workdir path in the footer wraps "ctrl+p" and "commands" onto two rows.
            {"name": "opencode.idle.footer", "state": "idle", "region": "bottom:3",
             "pattern": r"ctrl\+p( +commands| *(\n|$))"},
        ],
    },
    "amp": {
        "description": "Amp (UNVERIFIED: not installed or captured here; generic rules)",
        "argv": ["amp", "--dangerously-allow-all", "--no-ide"],
        "beacon": "paste",
        "resume_argv": ["amp", "threads", "continue"],
        "quit_keys": ["ctrl+c", "ctrl+c"],
        "ready_timeout": 30.0,
        "process_names": ["amp", "node"],
        "rules": [
            {"name": "amp.working.esc-to-interrupt", "state": "working", "region": "bottom:10",
             "pattern": r"esc (to )?(interrupt|cancel)"},
            {"name": "amp.working.output", "state": "working", "active_within": 2.0},
            {"name": "amp.idle.quiet", "state": "idle", "quiet_for": 3.0},
        ],
    },
}
