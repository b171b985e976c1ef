"""stock.py, pure: the push plan, patch answers and feed processing reports as PushResults."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from erpsync.connectors.amazon import stock
from erpsync.domain import PushResult, StockUpdate

FIXTURES = Path(__file__).resolve().parents[3] / "connectors" / "amazon" / "fixtures"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def test_plan_refuses_fba_patches_few_and_feeds_many() -> None:
    """requirement: FBA SKUs are refused without a request; up to feed_threshold updates go
    one PATCH each, more go in one feed (in push order, by SKU or else item id)."""
    updates = [
        StockUpdate(item_id="A", sku="A", quantity=1),
        StockUpdate(item_id="FBA", quantity=2),
        StockUpdate(item_id="B", sku="B-SKU", quantity=3),
    ]
    few = stock.plan(updates, fba_skus={"FBA"}, feed_threshold=2)
    assert few.refused == {
        1: PushResult(item_id="FBA", ok=False, error=stock.FBA_REFUSED),
    }
    assert [(n, sku) for n, _, sku in few.patches] == [(0, "A"), (2, "B-SKU")]
    assert few.feeds == []
    many = stock.plan(updates, fba_skus={"FBA"}, feed_threshold=1)
    assert many.patches == []
    assert [[(n, sku) for n, _, sku in batch] for batch in many.feeds] == [[(0, "A"), (2, "B-SKU")]]


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (
            {"sku": "A", "status": "ACCEPTED", "submissionId": "s1", "issues": []},
            PushResult(item_id="A", ok=True, pending=True),
        ),
        (
            {"sku": "A", "status": "VALID", "submissionId": "s1", "issues": []},
            PushResult(item_id="A", ok=True, pending=False),
        ),
        (
            load("patch-invalid"),
            PushResult(item_id="A", ok=False, error="90000900: The attributes are invalid."),
        ),
        (
            {"sku": "A", "status": "INVALID", "issues": []},
            PushResult(item_id="A", ok=False, error="submission status INVALID"),
        ),
    ],
)
def test_patch_submission_response(response: dict[str, Any], expected: PushResult) -> None:
    """requirement: ACCEPTED -> ok+pending; INVALID -> not ok with the ERROR issues' text."""
    assert stock.push_result("A", response) == expected


def test_feed_report_errors_per_sku() -> None:
    """requirement: a processing report's ERROR issues fail their SKU (by sku, or by messageId
    when the issue has no sku); WARNINGs do not."""
    report = load("feed-report")
    skus = {1: "CANECA-AZUL", 2: "CANECA-VERDE", 3: "PANO-PRATO"}
    assert stock.feed_errors(report, skus) == {
        "CANECA-VERDE": "90220: 'fulfillment_availability' is required but not supplied.",
        "PANO-PRATO": "4000003: The Amazon product type specified is invalid or not supported.",
    }
