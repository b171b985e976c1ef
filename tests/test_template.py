"""The connector template stays importable, typed (mypy checks it) and shaped as documented."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from erpsync.connector import Capability
from erpsync.connectors._template import TemplateConnector, orders
from erpsync.connectors._template.emulator import TemplateEmulator

FOLDER = Path(__file__).resolve().parents[1] / "connectors" / "_template"


def test_capabilities_follow_from_the_resources_it_lists():
    assert TemplateConnector.capabilities == {
        Capability.PULL_ORDERS,
        Capability.PULL_LISTINGS,
        Capability.PUSH_STOCK,
        Capability.AUTHORIZE,
    }
    assert TemplateConnector.Credentials.__name__ == "TemplateCredentials"


def test_its_fixture_maps():
    payload = json.loads((FOLDER / "fixtures" / "order-T000001.json").read_text())
    order = orders.order_from_payload(payload, connector="t")
    assert order.external_id == "T000001" and order.items[0].sku == "SKU-1"


def test_the_emulator_imports_nothing_from_the_connector():
    """requirement: an emulator that imports the connector's helpers agrees with their bugs."""
    assert TemplateEmulator(seed=1).seed_orders  # it builds
    for path in (FOLDER / "emulator").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                module = node.module
                assert not module.startswith("erpsync.connectors._template.") or module.startswith(
                    "erpsync.connectors._template.emulator"
                ), f"{path.name}: {module}"
