"""The connector contract suite, run against the Anymarket emulator."""

from pathlib import Path

from erpsync.connectors.anymarket import AnymarketConnector
from erpsync.connectors.anymarket.emulator import AnymarketEmulator
from erpsync.testing import ConnectorContract

FIXTURES = Path(__file__).resolve().parents[3] / "connectors" / "anymarket" / "fixtures"


class TestAnymarketContract(ConnectorContract):
    connector_class = AnymarketConnector
    emulator_class = AnymarketEmulator
    fixtures = FIXTURES
    fixture_glob = "order-*.json"
    #: the gumgaToken never expires and has no refresh (a new one is generated in the panel)
    refreshes_tokens = False
