"""Stock: which updates go by patchListingsItem, which by one JSON_LISTINGS_FEED, the bodies they
send and how Amazon's answers read. Pure planning only: the connector's push_stock and
verify_pending make the requests (the feed's document/upload/poll steps are in feeds.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from erpsync.connectors.amazon.errors import issue_text
from erpsync.connectors.amazon.listings import MERCHANT_CHANNEL_CODE
from erpsync.domain import PushResult, StockUpdate

FEED_CONTENT_TYPE = "application/json; charset=UTF-8"
FEED_TYPE = "JSON_LISTINGS_FEED"
#: listings-feed-schema-v2: at most 25,000 messages per feed
FEED_MAX_MESSAGES = 25_000
FINAL_FEED_STATES = frozenset({"DONE", "FATAL", "CANCELLED"})
#: searchListingsItems takes at most 20 identifiers per call (listingsItems_2021-08-01.json)
IDENTIFIERS_PER_SEARCH = 20
FBA_REFUSED = "fulfilled by Amazon (FBA): Amazon holds this stock; not pushed"

#: one update to send: (its index in the push, the update, the seller SKU it goes to)
Todo = tuple[int, StockUpdate, str]


@dataclass
class Plan:
    """How one push_stock call goes: refused locally, one PATCH each, or feeds."""

    refused: dict[int, PushResult] = field(default_factory=dict)
    patches: list[Todo] = field(default_factory=list)
    feeds: list[list[Todo]] = field(default_factory=list)


def plan(updates: Sequence[StockUpdate], *, fba_skus: set[str], feed_threshold: int) -> Plan:
    """FBA SKUs are never pushed (Amazon holds their stock); the rest go one PATCH per SKU, or,
    when there are more than ``feed_threshold``, in feeds of at most FEED_MAX_MESSAGES."""
    planned = Plan()
    todo: list[Todo] = []
    for n, update in enumerate(updates):
        sku = update.sku or update.item_id  # the listing's item id is its seller SKU
        if sku in fba_skus:
            planned.refused[n] = result(update, ok=False, error=FBA_REFUSED)
        else:
            todo.append((n, update, sku))
    if len(todo) > feed_threshold:
        planned.feeds = [
            todo[start : start + FEED_MAX_MESSAGES]
            for start in range(0, len(todo), FEED_MAX_MESSAGES)
        ]
    else:
        planned.patches = todo
    return planned


def stock_patch(quantity: int) -> dict[str, Any]:
    """The merchant (DEFAULT channel) quantity as one JSON Patch operation."""
    return {
        "op": "replace",
        "path": "/attributes/fulfillment_availability",
        "value": [{"fulfillment_channel_code": MERCHANT_CHANNEL_CODE, "quantity": quantity}],
    }


def product_type(update: StockUpdate, default: str) -> str:
    """PATCH requires a productType: the listing's, else the configured default."""
    return str(update.extra.get("product_type") or default)


def patch_body(update: StockUpdate, *, default_product_type: str) -> dict[str, Any]:
    """ref: https://developer-docs.amazon.com/sp-api/docs/listings-items-api-v2021-08-01-reference#patchlistingsitem"""
    return {
        "productType": product_type(update, default_product_type),
        "patches": [stock_patch(update.quantity)],
    }


def push_result(sku: str, response: Mapping[str, Any]) -> PushResult:
    """A patchListingsItem answer (ListingsItemSubmissionResponse) as a PushResult.

    ACCEPTED means queued for asynchronous processing, not applied: ok and pending. INVALID
    carries ERROR issues. VALID only answers mode=VALIDATION_PREVIEW (nothing applied).
    """
    status = response.get("status")
    if status == "ACCEPTED":
        return PushResult(item_id=sku, ok=True, pending=True)
    if status == "VALID":
        return PushResult(item_id=sku, ok=True, pending=False)
    issues: Sequence[Mapping[str, Any]] = response.get("issues") or []
    message = issue_text(issues) or issue_text(issues, severity="WARNING")
    return PushResult(item_id=sku, ok=False, error=message or f"submission status {status}")


# -- many SKUs: JSON_LISTINGS_FEED -----------------------------------------------------------


def feed_document(
    todo: Sequence[Todo], *, seller_id: str, issue_locale: str, default_product_type: str
) -> dict[str, Any]:
    """The JSON_LISTINGS_FEED document: one PATCH message per SKU, numbered from 1.
    ref: https://developer-docs.amazon.com/sp-api/docs/feeds-api-v2021-06-30-use-case-guide
    """
    messages = [
        {
            "messageId": m,
            "sku": sku,
            "operationType": "PATCH",
            "productType": product_type(update, default_product_type),
            "patches": [stock_patch(update.quantity)],
        }
        for m, (_, update, sku) in enumerate(todo, start=1)
    ]
    header = {"sellerId": seller_id, "version": "2.0", "issueLocale": issue_locale}
    return {"header": header, "messages": messages}


def feed_errors(report: Mapping[str, Any], skus_by_message: Mapping[int, str]) -> dict[str, str]:
    """SKU -> error text for every message the JSON_LISTINGS_FEED processing report rejected.

    Issues carry messageId (always) and sku (in the v2 report); ERROR issues fail the message,
    WARNING/INFO ones do not (listings-feed-processing-report-schema-v2).
    """
    errors: dict[str, list[str]] = {}
    for issue in report.get("issues") or []:
        if issue.get("severity") != "ERROR":
            continue
        message_id = issue.get("messageId")
        sku = issue.get("sku") or skus_by_message.get(int(message_id or 0))
        if sku is None:
            continue
        errors.setdefault(str(sku), []).append(issue_text([issue]))
    return {sku: "; ".join(texts) for sku, texts in errors.items()}


def feed_results(
    todo: Sequence[Todo],
    feed_id: str,
    feed: Mapping[str, Any] | None,
    report: Mapping[str, Any],
) -> dict[int, PushResult]:
    """Each SKU's result from the final feed and its processing report; a feed still processing
    after the polls (``feed`` None) leaves them pending: read back next run."""
    if feed is None:
        return {n: result(update, ok=True, pending=True) for n, update, _ in todo}
    errors = feed_errors(report, {m: sku for m, (_, _, sku) in enumerate(todo, start=1)})
    fatal: str | None = None
    status = feed.get("processingStatus")
    if status != "DONE":  # the error every SKU shares
        general = issue_text(
            i for i in report.get("issues") or [] if not i.get("sku") and not i.get("messageId")
        )
        fatal = f"feed {feed_id} ended {status}" + (f": {general}" if general else "")
    results: dict[int, PushResult] = {}
    for n, update, sku in todo:
        error = errors.get(sku) or fatal
        results[n] = result(update, ok=error is None, error=error)
    return results


# -- read back ---------------------------------------------------------------------------------


def verify_query(skus: Sequence[str], marketplace_id: str) -> dict[str, Any]:
    """searchListingsItems by SKU (at most IDENTIFIERS_PER_SEARCH) with quantities and issues."""
    return {
        "marketplaceIds": marketplace_id,
        "identifiers": ",".join(skus),
        "identifiersType": "SKU",
        "includedData": "fulfillmentAvailability,issues",
        "pageSize": IDENTIFIERS_PER_SEARCH,
    }


def verified(update: StockUpdate, item: Mapping[str, Any] | None) -> PushResult:
    """The pushed quantity shows (applied), an ERROR issue explains a refusal, anything else is
    "not applied yet" (the engine sends it again)."""
    if item is None:
        return result(update, ok=False, error="SKU not found on Amazon")
    shown = next(
        (
            a.get("quantity")
            for a in item.get("fulfillmentAvailability") or []
            if a.get("fulfillmentChannelCode") == MERCHANT_CHANNEL_CODE
        ),
        None,
    )
    if shown == update.quantity:
        return result(update, ok=True)
    issues = issue_text(item.get("issues") or [])
    error = issues or f"Amazon shows {shown}, not the {update.quantity} pushed (not applied yet)"
    return result(update, ok=False, error=error)


def result(
    update: StockUpdate, *, ok: bool, pending: bool = False, error: str | None = None
) -> PushResult:
    return PushResult(item_id=update.item_id, ok=ok, pending=pending, error=error)
