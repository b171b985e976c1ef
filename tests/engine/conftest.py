"""Engine fixtures: an in-memory store with products, and a scriptable fake connector."""

import pytest

from erpsync.connector import ConnectorSettings
from erpsync.store import ledger, products
from tests.backends import opened_store
from tests.engine.fakes import FakeConnector, FakeOptions


@pytest.fixture
def store(backend):
    with opened_store(backend) as opened:
        yield _seeded(opened)


def _seeded(store):
    with store.session() as session:
        products.upsert_product(session, "SKU-A", name="Caneca")
        products.upsert_product(session, "SKU-B", name="Camiseta")
        products.upsert_product(
            session, "KIT-AB", name="Kit", components=[("SKU-A", 2), ("SKU-B", 1)]
        )
        ledger.set_on_hand(session, "SKU-A", "main", 100)
        ledger.set_on_hand(session, "SKU-B", "main", 50)
    return store


@pytest.fixture
def connector():
    settings = ConnectorSettings(name="shop", type="fake", options=FakeOptions(page_size=3))
    return FakeConnector(settings)
