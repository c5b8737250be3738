"""The import graph of our own modules, read from the AST (nothing is imported).

    python tools/import_graph.py cycles   # exit 1 and list them when our modules import in a cycle
    python tools/import_graph.py local    # count function-local imports of our own modules (-v per file, -vv each)
    python tools/import_graph.py local --uncommented   # only those that do not say why (exit 1 if any)

Every import statement counts, wherever it stands: at the top, inside a function
body (a "deferred" import, which Python runs later but which is still an edge of
the graph) or inside `try`. Imports under `if TYPE_CHECKING:` never run, so they
are not edges. An import of `pkg.mod` is an edge to `pkg/mod.py` (or to
`pkg/mod/__init__.py`); `from pkg import name` is an edge to `pkg/name.py` when
that module exists, else to `pkg/__init__.py`. The implicit import of a parent
package's `__init__` is not counted (as in import-linter).

A function-local import of ours is *deliberate* when it says why: a comment with
the word "deferred" on the import's own lines, in the comment block right above
it, or on an import of the same unbroken run of imports (one comment may cover
a block). The comment names what it keeps out of which start-up (Textual for the
headless commands, pydantic or GitPython for `bd`/`prime`, pexpect for `node
serve`...), and a test checks it stays out (tests/*/test_import_hygiene.py,
tests/test_layers.py). Every other function-local import is *uncommented*: hoist
it, or say why not.

`make lint` runs `cycles`; `local` is for reports (how many deferrals are left,
how many say why).
"""
from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("gastown_tui", "widgets")

DELIBERATE = [
    # sessions.vt.new_screen picks an engine lazily; each engine subclasses vt.Screen
    # (only one of pyghostty/pyte is installed on a machine). See its docstring.
    {"gastown_tui.sessions.vt", "gastown_tui.sessions.vt_ghostty", "gastown_tui.sessions.vt_pyte"},
]
# Cycles that another branch is removing (issue 12's app edge, with the town
# server): reported, but they do not fail `make lint` until that branch lands.
# Delete an entry once it no longer shows up.
BEING_REMOVED: list[set[str]] = []  # none left


def module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every module of our packages."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _says_deferred(line: str) -> bool:
    """True when LINE carries a comment with the word "deferred" (a deliberate deferral's reason)."""
    at = line.find("#")
    return at >= 0 and "deferred" in line[at:].lower()


def _commented(lines: list[str], runs: list[tuple[int, int]]) -> bool:
    """True when a run of imports (first line, last line; 1-based) says why it is deferred: a
    "deferred" comment on one of its lines or in the comment block directly above it."""
    first = runs[0][0]
    if any(_says_deferred(lines[n - 1]) for start, end in runs for n in range(start, end + 1)):
        return True
    n = first - 1
    while n >= 1 and lines[n - 1].lstrip().startswith("#"):
        if _says_deferred(lines[n - 1]):
            return True
        n -= 1
    return False


class _Imports(ast.NodeVisitor):
    """Collects (line, target names, local?, deferral commented?) for every import that can run."""

    def __init__(self, module: str, is_package: bool, lines: list[str] | None = None) -> None:
        self.module = module
        self.is_package = is_package
        self.lines = lines or []
        self.depth = 0
        self.found: list[tuple[int, list[str], bool, bool]] = []
        self.runs: dict[int, list[tuple[int, int]]] = {}  # an import's line -> its run of imports

    def generic_visit(self, node: ast.AST) -> None:
        # an unbroken run of import statements in one body shares one "deferred" comment
        for field in ("body", "orelse", "finalbody"):
            body = getattr(node, field, None)
            if not isinstance(body, list):
                continue
            run: list[tuple[int, int]] = []
            for stmt in [*body, None]:
                if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                    run.append((stmt.lineno, stmt.end_lineno or stmt.lineno))
                    continue
                for start, _ in run:
                    self.runs[start] = run
                run = []
        super().generic_visit(node)

    def _add(self, node: ast.Import | ast.ImportFrom, names: list[str]) -> None:
        local = self.depth > 0
        run = self.runs.get(node.lineno, [(node.lineno, node.end_lineno or node.lineno)])
        self.found.append((node.lineno, names, local, local and _commented(self.lines, run)))

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def _function(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Import(self, node: ast.Import) -> None:
        self._add(node, [a.name for a in node.names])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            package = self.module.split(".")
            if not self.is_package:
                package = package[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join(package + ([base] if base else []))
        names = [f"{base}.{a.name}" if base else a.name for a in node.names]
        self._add(node, [base, *names])


def edges() -> tuple[dict[str, set[str]], dict[str, list[tuple[int, str, bool]]]]:
    """The graph (module -> modules it imports) and, per file, its local imports of ours
    (line, first target, whether a comment says why it is deferred)."""
    files = module_files()
    graph: dict[str, set[str]] = defaultdict(set)
    local: dict[str, list[tuple[int, str, bool]]] = defaultdict(list)
    for module, path in files.items():
        text = path.read_text(encoding="utf-8")
        visitor = _Imports(module, path.name == "__init__.py", text.splitlines())
        visitor.visit(ast.parse(text, str(path)))
        for line, names, is_local, commented in visitor.found:
            targets = _resolve(names, files)
            for target in targets:
                if target != module:
                    graph[module].add(target)
            if is_local and targets:
                local[str(path.relative_to(ROOT))].append((line, sorted(targets)[0], commented))
    return graph, local


def _resolve(names: list[str], files: dict[str, Path]) -> set[str]:
    """Our modules named by one import statement (`from a import b` -> a.b if a module, else a)."""
    if len(names) > 1 and not names[0]:
        names = names[1:]
    if len(names) == 1 or all(n.count(".") == 0 for n in names):
        return {n for n in names if n in files}
    base, members = names[0], names[1:]
    hits = {m for m in members if m in files}
    if len(hits) < len(members) and base in files:
        hits.add(base)
    return hits


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def main(argv: list[str]) -> int:
    what = argv[0] if argv else "cycles"
    graph, local = edges()
    if what == "cycles":
        found = cycles(graph)
        failing = 0
        for component in found:
            inner = [f"  {a} -> {b}" for a in component for b in sorted(graph[a]) if b in component]
            deliberate = set(component) in DELIBERATE
            known = set(component) in BEING_REMOVED
            failing += not (known or deliberate)
            note = (" (deliberate: a lazy factory; not a failure)" if deliberate else
                    " (being removed in another branch; not a failure)" if known else "")
            print(f"cycle among {len(component)} modules{note}:\n" + "\n".join(inner))
        print(f"import cycles among our modules: {len(found)}, {failing} failing")
        return 1 if failing else 0
    if what == "local":
        only_uncommented = "--uncommented" in argv
        if only_uncommented:
            local = {p: [h for h in hits if not h[2]] for p, hits in local.items()}
            local = {p: hits for p, hits in local.items() if hits}
        total = sum(len(v) for v in local.values())
        uncommented = sum(1 for hits in local.values() for h in hits if not h[2])
        verbose = "-v" in argv or "-vv" in argv
        for path, hits in sorted(local.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            if verbose:
                bare = sum(1 for h in hits if not h[2])
                print(f"{len(hits):4d} {path}" + (f"  ({bare} uncommented)" if bare else ""))
            if "-vv" in argv:
                for line, target, commented in hits:
                    print(f"       {path}:{line} {target}" + ("" if commented else "  [uncommented]"))
        if only_uncommented:
            print(f"function-local imports of our own modules that do not say why: {total} in {len(local)} files")
            return 1 if total else 0
        print(f"function-local imports of our own modules: {total} in {len(local)} files, "
              f"{total - uncommented} deliberate (a comment says why they are deferred), {uncommented} uncommented")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
