"""The connector contract suite, run against the Magalu emulator."""

from pathlib import Path

from erpsync.connectors.magalu import MagaluConnector
from erpsync.connectors.magalu.emulator import MagaluEmulator
from erpsync.testing import ConnectorContract

FIXTURES = Path(__file__).resolve().parents[3] / "connectors" / "magalu" / "fixtures"


class TestMagaluContract(ConnectorContract):
    connector_class = MagaluConnector
    emulator_class = MagaluEmulator
    fixtures = FIXTURES
    fixture_glob = "order-*.json"
