"""Magalu post-sale, the pure parts: request bodies, what an answer means.

Every push is per delivery (the order's shipping unit; shared API notes §3.6, developers.magalu
.com Open API): the NF-e goes with ``POST /seller/v1/deliveries/{id}/invoices`` ``{key,
issued_at, xml, channel}`` once the delivery is ``approved`` (answer 201, status
``awaiting_validation``); Magalu Entregas labels with ``POST /seller/v1/logistics/shipping-labels``
``{deliveries: [{id}], label: {format, type}, channel}``, answered with a signed URL that is
downloaded before it expires, without the API's token (it is a storage host). The public pages
do not say how a repeated NF-e is answered: a 409 is taken as "Magalu holds it already" [U].
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from erpsync.domain import Invoice

INVOICE_PATH = "/seller/v1/deliveries/{delivery_id}/invoices"
LABELS_PATH = "/seller/v1/logistics/shipping-labels"
#: the label with the DANFE summary and the carrier's part ("full"); "summary" is the short one
LABEL_TYPE = "full"
NEVER_LABEL = {"fulfillment": "fulfillment: Magalu ships it from its warehouse"}


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
