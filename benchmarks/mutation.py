"""Mutation check: does the suite fail when core code is subtly wrong?

Applies small mutants (one at a time) to a few core modules and runs the tests that cover each
module. A mutant is *killed* when its tests fail (or hang past the timeout) and *survives* when
they pass. The score is killed / all.

    python benchmarks/mutation.py [--per-module 10] [--only frames,transport,referee] [--list]

Mutants are made from the module's syntax tree (``ast``): comparison operators flipped
(``<`` / ``<=``, ``==`` / ``!=``, ``in`` / ``not in``, ``is`` / ``is not``), arithmetic swapped
(``+`` / ``-``, ``*`` / ``/``), ``and`` / ``or`` swapped, ``not`` dropped, ``True`` / ``False``
swapped and numbers nudged. From every candidate of a module, ``--per-module`` are picked evenly
spread over the file, so a run is deterministic and bounded.

The working tree is never written to: the project is copied to a temporary directory once, each
mutant is written into the copy and reverted from the original text after its run, and the copy
is removed at the end. Tests run with the copy first on ``PYTHONPATH`` and with bytecode writing
off, so no stale ``.pyc`` can hide a mutant.
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 120.0  # seconds for one mutant's tests; a hang counts as killed


@dataclass(frozen=True)
class Target:
    key: str
    path: str
    tests: tuple[str, ...]
    scope: tuple[str, ...] = ()  # only inside these top-level functions/classes; () = all


TARGETS = (
    Target("frames", "rapidata_async/results/_frames.py", ("tests/test_results.py",)),
    Target(
        "pipeline",
        "rapidata_async/_uploads/_pipeline.py",
        (
            "tests/test_uploads.py",
            "tests/test_upload_resilience.py",
            "tests/test_datapoint_identity.py",
        ),
    ),
    Target(
        "transport",
        "rapidata_async/_transport/_transport.py",
        ("tests/test_transport.py",),
        scope=("Transport", "_parse_retry_after", "_query", "_param_text", "_materialize"),
    ),
    Target(
        "referee",
        "rapidata_async/local/domain/referee.py",
        ("tests/test_domain.py", "tests/test_crowd_board.py"),
    ),
    Target(
        "confidence",
        "rapidata_async/local/domain/confidence.py",
        ("tests/test_domain.py", "tests/test_crowd.py"),
    ),
)

_FLIP_CMP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_FLIP_BIN: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
}


@dataclass(frozen=True)
class Mutant:
    target: Target
    index: int  # position among the module's candidates (stable for one source text)
    line: int
    what: str


Edit = Callable[[], None]


def _candidates(node: ast.AST) -> Iterator[tuple[str, Edit]]:
    """The mutations of one node: a description and a function that applies it in place."""
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            flipped = _FLIP_CMP.get(type(op))
            if flipped is not None:

                def edit(node: ast.Compare = node, i: int = i, new: type = flipped) -> None:
                    node.ops[i] = new()

                yield f"{type(op).__name__} -> {flipped.__name__}", edit
    elif isinstance(node, (ast.BinOp, ast.AugAssign)):
        new_op = _FLIP_BIN.get(type(node.op))
        if new_op is not None:

            def edit_bin(node: ast.BinOp | ast.AugAssign = node, new: type = new_op) -> None:
                node.op = new()

            yield f"{type(node.op).__name__} -> {new_op.__name__}", edit_bin
    elif isinstance(node, ast.BoolOp):
        other = ast.Or if isinstance(node.op, ast.And) else ast.And

        def edit_bool(node: ast.BoolOp = node, new: type = other) -> None:
            node.op = new()

        yield f"{type(node.op).__name__} -> {other.__name__}", edit_bool
    elif isinstance(node, ast.Constant) and type(node.value) in (bool, int, float):
        value = node.value
        if isinstance(value, bool):
            new_value: object = not value
        elif isinstance(value, int):
            new_value = value + 1
        else:
            new_value = value * 2 if value else 1.0

        def edit_const(node: ast.Constant = node, new: object = new_value) -> None:
            node.value = new

        yield f"{value!r} -> {new_value!r}", edit_const


class _DropNot(ast.NodeTransformer):
    def __init__(self, target: ast.UnaryOp) -> None:
        self.target = target

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        if node is self.target:
            return node.operand
        return self.generic_visit(node)


def _sites(tree: ast.Module, scope: tuple[str, ...]) -> Iterator[tuple[ast.AST, str, Edit]]:
    """Every mutation site of ``tree`` in a fixed order (ast.walk over the in-scope roots)."""
    roots: list[ast.AST] = []
    for stmt in tree.body:
        name = getattr(stmt, "name", None)
        if scope and name not in scope:
            continue
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or not scope:
            roots.append(stmt)
    skip: set[int] = set()
    for root in roots:
        for node in ast.walk(root):
            # Annotations and docstrings are not behaviour; logging calls are not either.
            for field in ("annotation", "returns"):
                sub = getattr(node, field, None)
                if sub is not None:
                    skip.update(id(n) for n in ast.walk(sub))
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                skip.add(id(node.value))
            if isinstance(node, ast.Call) and "log" in ast.unparse(node.func).lower():
                skip.update(id(n) for n in ast.walk(node))
    for root in roots:
        for node in ast.walk(root):
            if id(node) in skip:
                continue
            if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
                yield node, "drop not", lambda: None  # applied by _DropNot
                continue
            for what, edit in _candidates(node):
                yield node, what, edit


def mutants(target: Target, source: str, per_module: int) -> list[Mutant]:
    sites = list(_sites(ast.parse(source), target.scope))
    if len(sites) > per_module:
        step = len(sites) / per_module
        picked = [int(i * step + step / 2) for i in range(per_module)]
    else:
        picked = list(range(len(sites)))
    return [Mutant(target, i, getattr(sites[i][0], "lineno", 0), sites[i][1]) for i in picked]


def mutate(source: str, mutant: Mutant) -> str:
    """``source`` with ``mutant`` applied (reparsed, so the indices match ``mutants``)."""
    tree = ast.parse(source)
    node, what, edit = list(_sites(tree, mutant.target.scope))[mutant.index]
    if what == "drop not":
        assert isinstance(node, ast.UnaryOp)
        tree = _DropNot(node).visit(tree)
    else:
        edit()
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def run_tests(copy: Path, tests: tuple[str, ...], *, first_failure: bool) -> tuple[bool, float]:
    """Run ``tests`` in the copy; (passed, seconds). A timeout counts as failed."""
    env = dict(os.environ, PYTHONPATH=str(copy), PYTHONDONTWRITEBYTECODE="1")
    env["RAPIDATA_TEST_ALLOW_SKIPS"] = "1"  # a subset may deselect; skips are not the point
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider"]
    if first_failure:
        command.append("-x")
    started = time.monotonic()
    try:
        done = subprocess.run(
            [*command, *tests],
            cwd=copy,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        return False, time.monotonic() - started
    return done.returncode == 0, time.monotonic() - started


def _copy_tree(into: Path) -> Path:
    copy = into / "tree"
    ignore = shutil.ignore_patterns(".git", "_data", "__pycache__", "*.pyc", ".mypy_cache")
    shutil.copytree(ROOT, copy, ignore=ignore)
    return copy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-module", type=int, default=10)
    parser.add_argument("--only", default="", help="comma-separated target keys")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    args = parser.parse_args(argv)
    wanted = {k.strip() for k in args.only.split(",") if k.strip()}
    targets = [t for t in TARGETS if not wanted or t.key in wanted]

    plan = []
    for target in targets:
        source = (ROOT / target.path).read_text()
        plan.extend((m, source) for m in mutants(target, source, args.per_module))
    if args.list:
        for m, _ in plan:
            print(f"{m.target.path}:{m.line}  {m.what}")
        return 0

    survived: list[Mutant] = []
    killed = 0
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
        copy = _copy_tree(Path(tmp))
        for target in targets:
            ok, seconds = run_tests(copy, target.tests, first_failure=False)
            if not ok:
                print(f"unmutated tests fail for {target.key}; fix them first", file=sys.stderr)
                return 2
            print(f"{target.key}: baseline green in {seconds:.1f} s", flush=True)
        for m, source in plan:
            path = copy / m.target.path
            try:
                path.write_text(mutate(source, m))
                ok, seconds = run_tests(copy, m.target.tests, first_failure=True)
            finally:
                path.write_text(source)
            verdict = "survived" if ok else "killed"
            killed += not ok
            if ok:
                survived.append(m)
            print(
                f"  {verdict:<8} {m.target.path}:{m.line}  {m.what}  ({seconds:.1f} s)", flush=True
            )
    total = len(plan)
    print()
    print(
        f"mutation score: {killed}/{total} killed = {100 * killed / max(total, 1):.0f}%  "
        f"({time.monotonic() - started:.0f} s)"
    )
    for m in survived:
        print(f"  survived: {m.target.path}:{m.line}  {m.what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
