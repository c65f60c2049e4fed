"""The local backend's layout: imports point down (no cycle among its modules, counting
imports made only for type checking), and SQL lives only in the SQLite store."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import rapidata_async.local

LOCAL = Path(rapidata_async.local.__file__).parent
PACKAGE = "rapidata_async.local"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(LOCAL).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PACKAGE, *parts])


def _imports(path: Path, modules: set[str]) -> set[str]:
    """Modules of ``rapidata_async.local`` that ``path`` imports."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            # ``from p import m`` imports the submodule ``p.m`` when there is one, else names
            # defined by ``p`` itself.
            targets = [
                f"{prefix}.{alias.name}" if f"{prefix}.{alias.name}" in modules else prefix
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            # The deepest module of the backend the target names (a package counts too).
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def _graph() -> dict[str, set[str]]:
    paths = sorted(LOCAL.rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    return {_module_name(p): _imports(p, modules) for p in paths}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the modules along it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_the_graph_sees_the_imports_it_must_see() -> None:
    graph = _graph()
    assert f"{PACKAGE}._context" in graph[f"{PACKAGE}._app"]
    assert f"{PACKAGE}.store.sqlite.store" in graph[f"{PACKAGE}.store.sqlite"]
    assert f"{PACKAGE}.store.base" in graph[f"{PACKAGE}.store.sqlite.jobs"]
    # A made-up cycle is found, so an empty answer below means something.
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_local_backend_has_no_import_cycle() -> None:
    assert _cycle(_graph()) is None


def test_handler_plumbing_knows_no_backend_part() -> None:
    imported = _graph()[f"{PACKAGE}._http"]
    # _limits holds the size caps and their checks: wire rules, no backend part.
    allowed = {
        f"{PACKAGE}._errors",
        f"{PACKAGE}._limits",
        f"{PACKAGE}.store",
        f"{PACKAGE}.store.base",
    }
    assert imported <= allowed
    assert _graph()[f"{PACKAGE}._limits"] <= {f"{PACKAGE}._errors"}


_SQL = re.compile(
    r"\b(SELECT\s+.+\s+FROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|"
    r"CREATE\s+TABLE)\b",
    re.IGNORECASE,
)


def test_sql_lives_only_in_the_sqlite_store() -> None:
    sqlite_dir = LOCAL / "store" / "sqlite"
    postgres_dir = LOCAL / "store" / "postgres"
    offenders = [
        str(path.relative_to(LOCAL))
        for path in LOCAL.rglob("*.py")
        if not path.is_relative_to(sqlite_dir)
        and not path.is_relative_to(postgres_dir)
        and _SQL.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
