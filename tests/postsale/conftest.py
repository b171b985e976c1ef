"""Fixtures for post-sale tests: an in-memory store and stored orders that match the NF-e
factory's defaults (total 20.00, buyer CPF BUYER_CPF, created the day before issue)."""

from datetime import UTC, datetime
from typing import Any

import pytest

from erpsync.domain import Buyer, Order, OrderItem
from erpsync.postsale.nfe_builder import BUYER_CPF
from erpsync.store import open_store, orders

CREATED = datetime(2026, 11, 1, 15, 0, tzinfo=UTC)


@pytest.fixture
def store():
    opened = open_store("sqlite://")
    yield opened
    opened.close()


def make_order(**changes: Any) -> Order:
    values: dict[str, Any] = {
        "connector": "shop",
        "platform": "files",
        "external_id": "2000001234",
        "number": "2000001234",
        "status": "paid",
        "channel_status": "paid",
        "created_at": CREATED,
        "updated_at": CREATED,
        "items_total": "20.00",
        "total": "20.00",
        "buyer": Buyer(name="Ana", document=BUYER_CPF),
        "items": (OrderItem(sku="SKU-A", quantity=2, unit_price="10.00"),),
    }
    values.update(changes)
    return Order(**values)


def save(store, order: Order, effect: str = "deducted"):
    with store.session() as s:
        orders.save_order(s, order, {}, effect)
        return orders.get_order(s, order.connector, order.external_id)
