"""The connector contract suite, run against the Loja Integrada emulator."""

from pathlib import Path

from erpsync.connectors.lojaintegrada import LojaIntegradaConnector
from erpsync.connectors.lojaintegrada.emulator import LojaIntegradaEmulator
from erpsync.testing import ConnectorContract

FIXTURES = Path(__file__).resolve().parents[3] / "connectors" / "lojaintegrada" / "fixtures"


class TestLojaIntegradaContract(ConnectorContract):
    connector_class = LojaIntegradaConnector
    emulator_class = LojaIntegradaEmulator
    fixtures = FIXTURES
    fixture_glob = "order-*.json"
    # the key pair never expires and there is nothing to refresh; test_connector.py proves a
    # refused pair is an AuthError saying which keys to check
    refreshes_tokens = False
