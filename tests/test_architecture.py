"""The package's shape in one place: no import circles; serving loads no training code.

The import graph is read from the source with ``ast`` (nothing is imported to build it): an edge
for every module-level ``import`` / ``from ... import`` between modules of ``nextshow``. Imports
inside functions and under ``if TYPE_CHECKING:`` are not edges: they do not run at import time.
A circle among the remaining edges means a module is used half-initialised, the bug the
in-function imports used to hide.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import nextshow

PACKAGE = "nextshow"
ROOT = Path(nextshow.__file__).resolve().parent


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(ROOT.rglob("*.py")) if "migrations" not in p.parts}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _top_level_imports(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    """Imports that run when the module is imported: the body, and the branches of module-level
    ``if`` / ``try`` blocks (except ``if TYPE_CHECKING:``); never function or class bodies."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                found += _top_level_imports(node.body)
            found += _top_level_imports(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                found += _top_level_imports(block)
            for handler in node.handlers:
                found += _top_level_imports(handler.body)
    return found


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def import_graph() -> dict[str, set[str]]:
    """module -> the package's modules it imports at import time."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        edges: set[str] = set()
        for node in _top_level_imports(tree.body):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                source = _resolve(node, name, path.name == "__init__.py")
                # "from a.b import c" imports the module a.b.c when there is one, else a.b.
                targets = [
                    f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
                    for alias in node.names
                ]
            edges.update(t for t in targets if t in modules and t != name)
        graph[name] = edges
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each as one circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(start: str) -> None:
        # Iterative, so a long import chain cannot hit the recursion limit.
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return groups


def test_the_graph_sees_the_imports_that_matter() -> None:
    """The reader finds real edges (so an empty graph cannot pass the circle test)."""
    graph = import_graph()
    assert "nextshow.recommenders.base" in graph["nextshow.recommenders.kinds"]
    assert "nextshow.evaluation.candidates" in graph["nextshow.evaluation.protocol"]
    assert "nextshow.evaluation.tuning" in graph["nextshow.evaluation.candidates"]
    assert "nextshow.recommenders.artifact" in graph["nextshow.recommenders.base"]


def test_cycle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert find_cycles(graph) == [["a", "b", "c"]]


def test_no_import_circles_inside_the_package() -> None:
    cycles = find_cycles(import_graph())
    assert not cycles, "import circles (module-level imports):\n" + "\n".join(
        " -> ".join(group) for group in cycles
    )


def test_artifact_io_knows_no_recommenders() -> None:
    """artifact.py is file I/O only: the kinds table turns an artifact into a model."""
    assert import_graph()[f"{PACKAGE}.recommenders.artifact"] == set()


TRAINING_CODE = (
    "nextshow.pipeline",
    "nextshow.evaluation",
    "nextshow.ratings",
    "nextshow.cli",
    "sklearn",
)


@pytest.mark.parametrize(
    "entry",
    [
        "nextshow.service.app, nextshow.service.queue",  # the API process
        "nextshow.registry.loading, nextshow.recommenders",  # the loader a server uses
    ],
)
def test_serving_side_imports_no_training_code(entry: str) -> None:
    """A server must not load the pipeline, the evaluation or scikit-learn (checked in a fresh
    interpreter, so in-function imports that run at start-up count too)."""
    code = (
        f"import sys, {entry};"
        f"bad = sorted(m for m in sys.modules if m.startswith({TRAINING_CODE!r}));"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


TESTS = Path(__file__).resolve().parent
NOT_PACKAGES = {"fixtures", "__pycache__"}


def test_test_folders_mirror_the_package() -> None:
    """A test module's folder names the package it tests: tests/a/b/ tests nextshow/a/b/."""
    strays = []
    for folder in sorted(p for p in TESTS.rglob("*") if p.is_dir()):
        rel = folder.relative_to(TESTS)
        if NOT_PACKAGES & set(rel.parts) or not any(folder.glob("test_*.py")):
            continue
        if not (ROOT / rel).is_dir():
            strays.append(str(rel))
    assert not strays, f"test folders without a package of the same path: {strays}"
