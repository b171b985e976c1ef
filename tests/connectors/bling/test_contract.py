"""The connector contract suite, run against the Bling emulator (an ERP: the channel-side
promises skip; the ERP promises run in erpsync.testing's ERP contract once it exists)."""

from erpsync.connectors.bling import BlingConnector
from erpsync.connectors.bling.emulator import BlingEmulator
from erpsync.testing import ConnectorContract


class TestBlingContract(ConnectorContract):
    connector_class = BlingConnector
    emulator_class = BlingEmulator
