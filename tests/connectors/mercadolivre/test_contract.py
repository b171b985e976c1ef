"""The connector contract suite, run against the MercadoLivre emulator."""

from pathlib import Path

from erpsync.connectors.mercadolivre import MercadoLivreConnector
from erpsync.connectors.mercadolivre.emulator import MercadoLivreEmulator
from erpsync.testing import ConnectorContract

FIXTURES = Path(__file__).resolve().parents[3] / "connectors" / "mercadolivre" / "fixtures"


class TestMercadoLivreContract(ConnectorContract):
    connector_class = MercadoLivreConnector
    emulator_class = MercadoLivreEmulator
    fixtures = FIXTURES
    fixture_glob = "order-*.json"
