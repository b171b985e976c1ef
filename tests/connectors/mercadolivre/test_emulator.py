"""The Mercado Livre emulator is an independent witness of the connector."""

from __future__ import annotations

import ast
from pathlib import Path

FOLDER = Path(__file__).resolve().parents[3] / "connectors" / "mercadolivre" / "emulator"


def test_the_emulator_imports_nothing_from_the_connector() -> None:
    """requirement: an emulator that imports the connector's helpers agrees with their bugs."""
    found = []
    for path in sorted(FOLDER.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                found += [(path.name, node.module or "")]
            elif isinstance(node, ast.Import):
                found += [(path.name, alias.name) for alias in node.names]
    assert found, "the check reads the emulator's imports"
    assert [
        (name, module)
        for name, module in found
        if module.startswith("erpsync.connectors.mercadolivre")
        and not module.startswith("erpsync.connectors.mercadolivre.emulator")
    ] == []
