"""The connector contract suite, run against the Vnda emulator."""

from pathlib import Path

from erpsync.connectors.vnda import VndaConnector
from erpsync.connectors.vnda.emulator import VndaEmulator
from erpsync.testing import ConnectorContract

FIXTURES = Path(__file__).resolve().parents[3] / "connectors" / "vnda" / "fixtures"


class TestVndaContract(ConnectorContract):
    connector_class = VndaConnector
    emulator_class = VndaEmulator
    fixtures = FIXTURES
    fixture_glob = "order-*.json"
    #: the token never expires and there is no refresh: a deleted token is an AuthError that
    #: says where to make a new one (test_connector.py)
    refreshes_tokens = False
