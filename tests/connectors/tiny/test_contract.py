"""The connector contract suites, run against the Olist ERP (Tiny v3) emulator: the channel
side (its own orders, `import_orders`) and the ERP side (orders in, stock and NF-e out)."""

from pathlib import Path

from erpsync.connectors.tiny import TinyConnector
from erpsync.connectors.tiny.emulator import TinyEmulator
from erpsync.testing import ConnectorContract, ErpContract

FIXTURES = Path(__file__).resolve().parents[3] / "connectors" / "tiny" / "fixtures"


class TestTinyContract(ConnectorContract):
    connector_class = TinyConnector
    emulator_class = TinyEmulator
    fixtures = FIXTURES
    fixture_glob = "order-*.json"


class TestTinyErpContract(ErpContract):
    connector_class = TinyConnector
    emulator_class = TinyEmulator
