"""NF-e data to Vnda: the pure parts (which package, the body, what an answer means).

An invoice belongs to a package of the order:
`POST /api/v2/orders/{order_code}/packages/{package_code}/invoices` with `{number, series,
issued_at, key, volumes}` (`number` required), listed back by GET on the same path, removed by
`DELETE .../invoices/{number}`; 404 when the order or package does not exist, 422
`{"errors": {field: [...]}}` when the body is refused (ref: developers.vnda.com.br/api/orders/
operations/post-api-v2-orders-order-code-packages-package_code-invoices). The packages of an
order come from `GET /api/v2/orders/{code}/packages` (each with its `code`).

Vnda's invoice has no total, so it cannot check one: erpsync does, as a marketplace would (a
wrong NF-e on an order is worse than none).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from erpsync.connectors.vnda.orders import money
from erpsync.domain import Invoice


def body(invoice: Invoice) -> dict[str, Any]:
    return {
        "number": invoice.number,
        "series": invoice.series,
        "issued_at": invoice.issued_at.isoformat(),
        "key": invoice.access_key,
    }


def refusal(invoice: Invoice, order: Mapping[str, Any]) -> str | None:
    """Why this NF-e must not go on this order, or None (retry: worth asking again later)."""
    if order.get("status") == "canceled":
        return "the Vnda order is canceled"
    if order.get("status") != "confirmed":
        return "the Vnda order is not confirmed yet"
    total = money(order, "total")
    if order.get("total") not in (None, "") and total != invoice.total:
        return (
            f"NF-e total {invoice.total} differs from the order's total {total} "
            "(Vnda does not check it; erpsync does)"
        )
    return None


def package_for(invoice: Invoice, packages: Sequence[Mapping[str, Any]]) -> str | None:
    """The package the NF-e goes on: the one it names (shipment_ref), else the order's only
    package. None: no package yet, or several and the NF-e names none of them."""
    codes = [str(p.get("code")) for p in packages if isinstance(p, Mapping) and p.get("code")]
    if invoice.shipment_ref and invoice.shipment_ref in codes:
        return invoice.shipment_ref
    return codes[0] if len(codes) == 1 else None


def held(invoices: Any, key: str) -> bool:
    """The package already holds this very NF-e (a replay)."""
    return any(
        isinstance(i, Mapping) and str(i.get("key") or "").strip() == key
        for i in (invoices if isinstance(invoices, list) else [])
    )
