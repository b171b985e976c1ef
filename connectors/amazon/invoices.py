"""Amazon (Brazil) NF-e submission, the pure parts: the request body and what a status means.

For merchant-fulfilled orders in Brazil the documented call is the Delivery by Amazon API,
2022-07-01 (developer-docs.amazon.com/sp-api/docs/delivery-by-amazon-api; Restricted, Tax
Invoicing role): ``submitInvoice`` (``POST /delivery/2022-07-01/invoice?orderId=``, the base64
of the authorised XML and its Content-MD5, ``invoiceType`` Outbound, ``programType`` EasyShip or
SelfShip), then ``getInvoiceStatus`` (``GET /delivery/2022-07-01/invoice/status``): Processing,
Accepted, Errored or NotFound. Not the Feeds API (``UPLOAD_VAT_INVOICE`` is Europe's PDF flow)
and not Shipment Invoicing v0 (FBA orders, invoiced by Amazon). The status answer's field
names beyond ``invoiceStatus`` are not in the pages read [U].
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any

from erpsync.domain import Invoice, SendResult

SUBMIT_PATH = "/delivery/2022-07-01/invoice"
STATUS_PATH = "/delivery/2022-07-01/invoice/status"


def submit_body(invoice: Invoice, marketplace_id: str, program: str) -> dict[str, Any]:
    assert invoice.xml is not None
    return {
        "invoiceContent": base64.b64encode(invoice.xml).decode("ascii"),
        "marketplaceId": marketplace_id,
        # Content-MD5: the base64 of the binary MD5 digest (MWS "Working with Content-MD5")
        "contentMD5Value": base64.b64encode(hashlib.md5(invoice.xml).digest()).decode("ascii"),  # noqa: S324
        "invoiceType": "Outbound",
        "programType": program,
    }


def status_params(order_id: str, marketplace_id: str, program: str) -> dict[str, str]:
    return {
        "orderId": order_id,
        "marketplaceId": marketplace_id,
        "invoiceType": "Outbound",
        "programType": program,
    }


def status_result(invoice: Invoice, answer: Any) -> SendResult:
    """What a getInvoiceStatus answer means for this invoice's push record."""
    ref = invoice.access_key
    body = answer if isinstance(answer, Mapping) else {}
    status = str(body.get("invoiceStatus") or "")
    if status == "Accepted":
        return SendResult(ref=ref, ok=True)
    if status == "Processing":
        return SendResult(ref=ref, ok=True, pending=True)
    if status == "Errored":
        details = body.get("errorDetails") or []
        why = "; ".join(str(d) for d in details) if isinstance(details, list) else str(details)
        return SendResult(ref=ref, ok=False, error=f"Amazon refused the NF-e: {why or 'Errored'}")
    # NotFound (or an unknown answer): Amazon holds nothing, so it is sent again next run
    return SendResult(ref=ref, ok=False, retry=True, error=f"Amazon invoice status {status}")
