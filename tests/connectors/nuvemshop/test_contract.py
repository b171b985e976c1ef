"""The connector contract suite, run against the Nuvemshop emulator."""

from pathlib import Path

from erpsync.connectors.nuvemshop import NuvemshopConnector
from erpsync.connectors.nuvemshop.emulator import NuvemshopEmulator
from erpsync.testing import ConnectorContract

FIXTURES = Path(__file__).resolve().parents[3] / "connectors" / "nuvemshop" / "fixtures"


class TestNuvemshopContract(ConnectorContract):
    connector_class = NuvemshopConnector
    emulator_class = NuvemshopEmulator
    fixtures = FIXTURES
    fixture_glob = "order-*.json"
    refreshes_tokens = False
