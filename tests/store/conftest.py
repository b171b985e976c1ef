"""Fixtures for the store tests: an in-memory store, a file store, and an Order builder."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from erpsync.domain import Address, Buyer, Order, OrderItem
from erpsync.store import Store, open_store
from tests.backends import opened_store

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
BRT = timezone(timedelta(hours=-3))


@pytest.fixture
def store(backend) -> Iterator[Store]:
    """requirement: sqlite:// works for tests (one shared in-memory connection); PostgreSQL
    gets a fresh schema per test (tests/backends.py)."""
    with opened_store(backend) as opened:
        yield opened


@pytest.fixture
def file_store(tmp_path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path}/data/erpsync.db")
    yield opened
    opened.close()


def build_order(**changes: Any) -> Order:
    """A paid Mercado Livre order with two lines, a CPF, a BRT timestamp and odd cents."""
    values: dict[str, Any] = {
        "connector": "ml-main",
        "platform": "Mercado Livre",
        "external_id": "2000001234",
        "number": "2000001234",
        "status": "paid",
        "channel_status": "paid",
        "created_at": datetime(2024, 5, 1, 9, 30, 15, 123456, tzinfo=BRT),
        "updated_at": "2024-05-01T10:00:00.000-03:00",
        "items_total": "259.80",
        "shipping_cost": Decimal("19.9"),
        "discount": "0.10",
        "total": "279.60",
        "buyer": Buyer(
            name="Ana Souza", document="529.982.247-25", email="a@x.br", phone="11999990000"
        ),
        "shipping_address": Address(
            street="Av. Paulista",
            number="1000",
            complement="ap 12",
            district="Bela Vista",
            city="São Paulo",
            state="SP",
            zip="01310-100",
        ),
        "items": (
            OrderItem(
                sku="CAM-P",
                channel_item_id="MLB1",
                title="Camiseta P",
                quantity=2,
                unit_price="99.90",
            ),
            OrderItem(
                sku=None,
                channel_item_id="MLB2",
                variation_id="V9",
                title="Brinde",
                quantity=1,
                unit_price="60.00",
            ),
        ),
        "fulfilled_by_channel": False,
        "extra": {"pack_id": 2000000555, "shipment_id": "44001", "tags": ["a", "b"]},
        "notes": ("buyer phone withheld by the platform",),
    }
    values.update(changes)
    return Order(**values)


@pytest.fixture
def make_order():
    """Build an Order; keyword arguments override fields of the sample."""
    return build_order
