"""Magalu stock.py specs: stock reads, paths (the pushes run in test_connector.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from erpsync.connectors.magalu import stock

FIXTURES = Path(__file__).resolve().parents[3] / "connectors" / "magalu" / "fixtures"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("results", "channel", "expected"),
    [
        ([{"type": "AVAILABLE", "quantity": 17, "channel": {"id": "c1"}}], None, 17),
        ([{"type": "AVAILABLE", "quantity": 17, "channel": {"id": "c1"}}], "c1", 17),
        ([{"type": "AVAILABLE", "quantity": 17, "channel": {"id": "c1"}}], "c2", None),
        (
            [
                {"type": "RESERVED", "quantity": 3, "channel": {"id": "c1"}},
                {"type": "AVAILABLE", "quantity": 5, "channel": {"id": "c1"}},
                {"type": "AVAILABLE", "quantity": 9, "channel": {"id": "c2"}},
            ],
            None,
            5,
        ),
        ([], None, None),
    ],
)
def test_available_quantity(results: list[Any], channel: str | None, expected: int | None) -> None:
    """requirement: the AVAILABLE quantity of one channel, None when none is registered."""
    assert stock.available_quantity({"results": results}, channel) == expected


def test_stock_fixture_reads_back() -> None:
    """requirement: the documented stock response shape reads as its AVAILABLE quantity."""
    assert stock.available_quantity(load("stock-camiseta")) == 17


def test_skus_with_slashes_are_escaped_in_the_path() -> None:
    """requirement: a seller SKU is one path segment, whatever characters it has."""
    assert stock.stock_path("KIT/2 UN") == "/seller/v1/portfolios/stocks/KIT%2F2%20UN"
