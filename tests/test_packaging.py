"""Packaging: the built-in connectors under `connectors/` install as `erpsync.connectors`.

setuptools cannot discover packages across the two roots (`src/erpsync`, `connectors`), so
pyproject.toml lists every package and every data file pattern; these tests fail when a new
package folder or data file is not listed (the wheel would silently lack it).
"""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
    "setuptools"
]
ROOTS = {name: ROOT / folder for name, folder in SETUPTOOLS["package-dir"].items()}


def _package_dirs() -> dict[str, Path]:
    """Every folder with an __init__.py under each package root, by dotted name."""
    found: dict[str, Path] = {}
    for prefix, root in ROOTS.items():
        for init in root.rglob("__init__.py"):
            relative = init.parent.relative_to(root)
            if prefix == "erpsync" and relative.parts[:1] == ("connectors",):
                continue  # the symlink for mypy (see test_the_mypy_view_is_the_same_folder)
            if relative.parts[:1] == ("_template",):
                continue  # a skeleton to copy, not installed (tests/test_template.py)
            found[".".join((prefix, *relative.parts))] = init.parent
    return found


def test_every_package_folder_is_listed():
    """requirement: `connectors/<platform>/` (and every erpsync subpackage) is installed."""
    assert sorted(SETUPTOOLS["packages"]) == sorted(_package_dirs())


def test_every_data_file_is_listed():
    """requirement: fixtures (sandbox seeds), FORMAT.md and migrations reach the wheel."""
    data = SETUPTOOLS["package-data"]
    missing = []
    for name, folder in _package_dirs().items():
        for path in folder.rglob("*"):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            owner = path.parent
            while not (owner / "__init__.py").exists():
                owner = owner.parent
            if owner != folder or (path.suffix == ".py" and path.parent == folder):
                continue  # a module of the package itself, or a file of a subpackage
            relative = path.relative_to(folder).as_posix()
            if not any(fnmatch.fnmatch(relative, pattern) for pattern in data.get(name, [])):
                missing.append(f"{name}: {relative}")
    assert missing == []


def test_the_mypy_view_is_the_same_folder():
    """requirement: src/erpsync/connectors is a symlink to connectors/, so mypy (which cannot
    follow setuptools' editable import hook) checks the built-ins under their installed name."""
    view = ROOT / "src" / "erpsync" / "connectors"
    assert view.is_symlink() and view.resolve() == (ROOT / "connectors").resolve()


def test_the_registry_names_installed_modules():
    """requirement: the built-in table points at erpsync.connectors.<platform>."""
    from erpsync.registry import BUILTIN_CONNECTORS

    for type_name, reference in BUILTIN_CONNECTORS.items():
        assert reference.startswith(f"erpsync.connectors.{type_name}:")
        assert (ROOT / "connectors" / type_name / "__init__.py").exists()


def test_nothing_imports_the_top_level_folder_name():
    """requirement: code imports `erpsync.connectors...`, never `connectors...`. The repository
    root is on the test path, so `connectors.x` would import a second copy of each module (and
    isinstance checks across the copies would fail); an installed erpsync has no `connectors`."""
    import ast

    offenders = []
    for folder in ("src", "connectors", "tests", "bench"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                elif isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                if any(n == "connectors" or n.startswith("connectors.") for n in names):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
