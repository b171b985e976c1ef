"""Shared fixtures of the Bling tests: an emulator on simulated time, a harness, orders."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from erpsync.connectors.bling import BlingConnector
from erpsync.connectors.bling.emulator import BlingEmulator
from erpsync.domain import Address, Buyer, Order, OrderItem, OrderStatus
from erpsync.testing import FakeTime, Harness, build_harness

CPF = "52998224725"


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def emulator(time: FakeTime) -> BlingEmulator:
    return BlingEmulator(seed=7, clock=time.now)


@pytest.fixture
def harness(emulator: BlingEmulator, time: FakeTime) -> Iterator[Harness]:
    h = build_harness(BlingConnector, emulator, time, name="bling")
    yield h
    h.connector.close()
    h.store.close()


def make_order(
    number: str = "2000001",
    items: tuple[tuple[str, int, str], ...] = (("CAM-AZ", 2, "59.90"),),
    *,
    document: str | None = CPF,
    connector: str = "ml-main",
    **changes: Any,
) -> Order:
    """A paid channel order of ``items`` (sku, quantity, unit price)."""
    lines = tuple(
        OrderItem(sku=sku, quantity=qty, unit_price=Decimal(price), title=f"Item {sku}")
        for sku, qty, price in items
    )
    total_items = sum((i.unit_price * i.quantity for i in lines), Decimal("0"))
    fields: dict[str, Any] = {
        "connector": connector,
        "platform": "Mercado Livre",
        "external_id": number,
        "number": number,
        "status": OrderStatus.PAID,
        "channel_status": "paid",
        "created_at": datetime(2026, 11, 2, 1, 30, tzinfo=UTC),
        "updated_at": datetime(2026, 11, 2, 1, 30, tzinfo=UTC),
        "items_total": total_items,
        "shipping_cost": Decimal("15.00"),
        "discount": Decimal("5.00"),
        "total": total_items + Decimal("10.00"),
        "buyer": Buyer(name="Maria Souza", document=document, email="maria@example.com"),
        "shipping_address": Address(
            street="Rua das Flores",
            number="10",
            district="Centro",
            city="Campinas",
            state="SP",
            zip="13010000",
        ),
        "items": lines,
    }
    fields.update(changes)
    return Order(**fields)
