"""The connector contract suites, run against the Bling emulator (an ERP: the channel-side
promises skip; the ERP promises run in erpsync.testing.ErpContract)."""

from erpsync.connectors.bling import BlingConnector
from erpsync.connectors.bling.emulator import BlingEmulator
from erpsync.testing import ConnectorContract, ErpContract


class TestBlingContract(ConnectorContract):
    connector_class = BlingConnector
    emulator_class = BlingEmulator


class TestBlingErpContract(ErpContract):
    connector_class = BlingConnector
    emulator_class = BlingEmulator
