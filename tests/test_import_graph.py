"""No import cycle among runtime imports: every module-level import points down.

Back-references are allowed only under ``if TYPE_CHECKING:`` or inside functions (lazy
imports). The graph is read from the source (fast, whole tree); a few modules are also imported
alone in a fresh interpreter, which is what a cycle would break.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"erpsync": ROOT / "src" / "erpsync", "erpsync.connectors": ROOT / "connectors"}


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for prefix, root in PACKAGES.items():
        for path in root.rglob("*.py"):
            relative = path.relative_to(root).with_suffix("")
            if prefix == "erpsync" and relative.parts[:1] == ("connectors",):
                continue  # the symlink to connectors/
            if "migrations" in relative.parts:
                continue  # alembic scripts, loaded by path
            parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
            found[".".join((prefix, *parts))] = path
    return found


def _runtime_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Import statements that run when the module is imported (not TYPE_CHECKING, not in a
    function or class body)."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.append(node)
            elif isinstance(node, ast.If):
                if "TYPE_CHECKING" not in ast.unparse(node.test):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)

    visit(tree.body)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                    base = f"{base}.{node.module}" if node.module else base
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                    for a in node.names
                ]
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_runtime_imports_have_no_cycle():
    """requirement: no module is (indirectly) imported by a module it imports."""
    assert _cycles(_graph()) == []


def test_the_graph_sees_imports():
    """requirement: the check is not vacuous."""
    graph = _graph()
    assert "erpsync.http.ratelimit" in graph["erpsync.http.session"]
    assert "erpsync.connector.base" in graph["erpsync.connector.resources"]
    assert "erpsync.connector" not in graph["erpsync.http.session"]


@pytest.mark.parametrize(
    "module",
    [
        "erpsync.http.session",
        "erpsync.connector.http",
        "erpsync.connectors.mercadolivre.connector",
    ],
)
def test_modules_import_alone(module):
    """requirement: a module imports on its own in a fresh interpreter (no hidden order)."""
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True, cwd=ROOT / "tests")
