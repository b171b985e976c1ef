"""The connector contract suite, run against the MercadoLivre emulator."""

from pathlib import Path

from erpsync.connectors.mercadolivre import MercadoLivreConnector
from erpsync.connectors.mercadolivre.emulator import MercadoLivreEmulator
from erpsync.testing import ConnectorContract

FIXTURES = Path(__file__).resolve().parents[3] / "connectors" / "mercadolivre" / "fixtures"


class SellerShipsSomeEmulator(MercadoLivreEmulator):
    """The sandbox mix with two paid orders shipped by the seller (ME1), so the contract's
    tracking checks have shipments to push (the mix itself is all ME2 and Full). Serials 15
    and 16 repeat the mix's first two orders, whose first copies keep the NF-e and label
    checks supplied."""

    me1_serials = frozenset({15, 16})


class TestMercadoLivreContract(ConnectorContract):
    connector_class = MercadoLivreConnector
    emulator_class = SellerShipsSomeEmulator
    fixtures = FIXTURES
    fixture_glob = "order-*.json"
