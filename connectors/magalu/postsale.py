"""Magalu post-sale, the pure parts: request bodies, what an answer means.

Every push is per delivery (the order's shipping unit; shared API notes §3.6, developers.magalu
.com Open API): the NF-e goes with ``POST /seller/v1/deliveries/{id}/invoices`` ``{key,
issued_at, xml, channel}`` once the delivery is ``approved`` (answer 201, status
``awaiting_validation``), and its validation is read back with ``GET /seller/v1/deliveries/{id}/
invoices`` (get_invoice.en); the seller's own deliveries ship with ``POST /seller/v1/deliveries/
{id}/shippings`` (ship_delivery.en); Magalu Entregas labels with ``POST /seller/v1/logistics/
shipping-labels`` ``{deliveries: [{id}], label: {format, type}, channel}``, answered with a
signed URL that is downloaded before it expires, without the API's token (it is a storage
host). The public pages do not say how a repeated NF-e is answered: a 409 is taken as "Magalu
holds it already" [U].
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from erpsync.domain import Invoice, SendResult, TrackingUpdate

INVOICE_PATH = "/seller/v1/deliveries/{delivery_id}/invoices"
DELIVERY_PATH = "/seller/v1/deliveries/{delivery_id}"
SHIPPINGS_PATH = "/seller/v1/deliveries/{delivery_id}/shippings"
LABELS_PATH = "/seller/v1/logistics/shipping-labels"
#: the label with the DANFE summary and the carrier's part ("full"); "summary" is the short one
LABEL_TYPE = "full"
NEVER_LABEL = {
    "fulfillment": "fulfillment: Magalu ships it from its warehouse",
    # Magalu prints labels for Magalu Entregas only; the seller's own carrier issues its own
    "own": "own logistics: the seller's carrier issues the label",
}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def invoice_body(invoice: Invoice, channel_id: str | None) -> dict[str, Any]:
    assert invoice.xml is not None
    body: dict[str, Any] = {
        "key": invoice.access_key,
        "issued_at": invoice.issued_at.astimezone(UTC)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z"),
        "xml": invoice.xml.decode("utf-8"),
    }
    if channel_id:
        body["channel"] = {"id": channel_id}
    return body


def label_body(delivery_id: str, format: str, channel_id: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "deliveries": [{"id": delivery_id}],
        "label": {"format": format, "type": LABEL_TYPE},
    }
    if channel_id:
        body["channel"] = {"id": channel_id}
    return body


def signed_url(answer: Any) -> str | None:
    label = answer.get("label") if isinstance(answer, Mapping) else None
    url = label.get("signed_url") if isinstance(label, Mapping) else None
    return str(url) if url else None


# -- invoice validation (read back) ------------------------------------------------------------

#: ``GET /seller/v1/deliveries/{id}/invoices`` lists the delivery's NF-e with a ``status`` of
#: "approved|validating|invalid" (developers.magalu.com/docs/plataforma-do-seller-pedidos/
#: get_invoice.en/); the POST answers "awaiting_validation". Validating and awaiting are still
#: pending, approved is accepted, invalid a refusal (the seller fixes it and resends).
INVOICE_PENDING = frozenset({"awaiting_validation", "validating"})


def invoice_status(invoice: Invoice, answer: Any) -> SendResult:
    """What the delivery's invoice list says about this NF-e."""
    ref = invoice.access_key
    results = answer.get("results") if isinstance(answer, Mapping) else None
    found = next(
        (
            r
            for r in results or []
            if isinstance(r, Mapping) and str(r.get("key") or "") == invoice.access_key
        ),
        None,
    )
    if found is None:  # Magalu holds no NF-e of this key: sent again next run
        return SendResult(ref=ref, ok=False, retry=True, error="Magalu lists no NF-e of this key")
    status = str(found.get("status") or "")
    if status == "approved":
        return SendResult(ref=ref, ok=True, remote_id=invoice.shipment_ref)
    if status in INVOICE_PENDING:
        return SendResult(ref=ref, ok=True, pending=True, remote_id=invoice.shipment_ref)
    if status == "invalid":
        return SendResult(ref=ref, ok=False, error="Magalu found the NF-e invalid")
    return SendResult(ref=ref, ok=True, pending=True, error=f"Magalu invoice status {status!r}")


# -- tracking for the seller's own logistics ---------------------------------------------------

#: delivery statuses (get_delivery.en): "new|approved|invoiced|shipped|delivered|cancelled|frozen"
#: only an invoiced delivery is shipped: Brazilian goods travel with their NF-e, and Magalu's
#: flow is approved -> invoiced -> shipped -> delivered [R: the order of the statuses and of the
#: seller pages "add invoice", "ship", "finish"; the precondition itself is not written]
SHIPPABLE = "invoiced"
ALREADY_SHIPPED = frozenset({"shipped", "delivered"})
NOT_YET = frozenset({"new", "approved"})


def shipping_body(update: TrackingUpdate, channel_id: str | None, now: datetime) -> dict[str, Any]:
    """``POST /seller/v1/deliveries/{id}/shippings`` as the doc's example writes it
    (developers.magalu.com/docs/seller-pedidos/ship_delivery.en/): the tracking code is
    ``protocol``; ``labels`` and ``dates.estimated_delivery_at`` are left out (erpsync has no
    carrier label ids nor a promised date to give)."""
    body: dict[str, Any] = {
        "protocol": update.tracking_code,
        "dates": {"shipped_at": _iso(update.shipped_at or now)},
        "carrier": {"name": (update.carrier or "").strip() or "Transportadora própria"},
    }
    if update.tracking_url:
        body["tracking_url"] = update.tracking_url
    if channel_id:
        body["channel"] = {"id": channel_id}
    return body


def shipping_precheck(update: TrackingUpdate, delivery: Mapping[str, Any]) -> SendResult | None:
    """The answer the delivery's state already gives, without a POST; None: send it."""
    ref = update.shipment_ref
    status = str(delivery.get("status") or "")
    if status in ALREADY_SHIPPED:
        # shipped already: by an earlier run whose answer was lost, or in the seller's panel
        return SendResult(ref=ref, ok=True, remote_id=ref)
    if status in NOT_YET:
        return SendResult(
            ref=ref,
            ok=False,
            retry=True,
            error=f"the delivery is {status} at Magalu: it ships once its NF-e is in",
        )
    if status != SHIPPABLE:
        return SendResult(
            ref=ref, ok=False, error=f"the delivery is {status} at Magalu: it takes no shipping"
        )
    return None
