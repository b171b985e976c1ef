"""The connector contract suite, run against the Amazon emulator."""

from pathlib import Path

from erpsync.connectors.amazon import AmazonConnector
from erpsync.connectors.amazon.emulator import AmazonEmulator
from erpsync.testing import ConnectorContract

FIXTURES = Path(__file__).resolve().parents[3] / "connectors" / "amazon" / "fixtures"


class TestAmazonContract(ConnectorContract):
    connector_class = AmazonConnector
    emulator_class = AmazonEmulator
    fixtures = FIXTURES
