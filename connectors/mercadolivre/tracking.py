"""Mercado Livre tracking for ME1 shipments: the seller tells ML the package left, with its code.

ref: developers.mercadolivre.com.br/status-de-pedidos-rastreamento (pt-br, updated 2026-05-28;
es: developers.mercadolibre.cl/estados-de-ordenes-me1): an ME1 shipment (``logistic.mode``
"me1": the seller ships with his own carrier under Mercado Envios 1) is marked dispatched with
``POST /v2/shipments/{id}/seller_notifications``, body ``{"status": "shipped", "substatus":
null, "tracking_number": ..., "tracking_url": ...}``. The V2 path replaced
``/shipments/{id}/seller_notifications``, discontinued on 2026-10-31; in V2 ``substatus`` must
be present (JSON null, never the string "null") and the tracking number and URL go together.
Where the sources disagree: the copies of the pt-br page read here still show the V1 path (they
end before any migration note); the V2 path and its rules follow integrator notes quoting the
.cl page's migration section [R], chosen because V1 is past its shutdown date.
``delivered``/``not_delivered`` are final: once there, ML takes no more notifications.

Never sent: ME2 (drop_off, cross_docking, xd_*, Flex, Full). ML's own logistics move those by
carrier events after the label is printed; there is no seller call to make (shared notes §1.7),
so ``TrackingSink.tracking_logistic_types`` leaves them to the engine, which counts them as
skipped, not failed. Custom shipping (``logistic.mode`` custom: the seller ships outside
Mercado Envios, ref: developers.mercadolivre.com.br/envios-personalizados, 2024-12) has no
documented tracking call: refused with that reason, so the seller sees it and tells the buyer
by message; "not_specified" has no shipment at all, so there is nothing to push.

How answers map: the shipment already ``shipped``/``delivered`` with our code (a replay after a
crash): accepted without a second call. 2xx: accepted. A 4xx (order cancelled, a final state,
not ME1): refused with ML's message, after reading the shipment back in case ML kept it anyway.
429/5xx: sent again next run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from erpsync.domain import SendResult, TrackingUpdate
from erpsync.errors import FatalError, RetriableError

#: the logistic types (``logistic.type``) of ME1 and custom shipments: the only ones whose
#: tracking the seller informs (ME1 shows ``default``; custom/not_specified the others)
SELLER_SHIPPED = frozenset({"default", "custom", "not_specified"})
#: ML's statuses at which the package has left: a notification then only repeats it
DISPATCHED = frozenset({"shipped", "delivered", "not_delivered"})

#: GET /shipments/{id} (x-format-new) by shipment id, None when not found
Get = Callable[[str], dict[str, Any] | None]
Post = Callable[[str, dict[str, Any]], None]


def push_one(update: TrackingUpdate, get: Get, post: Post) -> SendResult:
    """Send one shipment's tracking; ``get``/``post`` are the connector's requests."""
    ref = update.shipment_ref
    shipment = get(ref)
    if shipment is None:
        return _refused(ref, f"shipment {ref} not found on Mercado Livre")
    logistic = shipment.get("logistic") or {}
    mode = logistic.get("mode") or shipment.get("mode")
    if mode == "me2":
        # the engine never hands ME2 over; a shipment that turned ME2 since the pull is ML's
        return _refused(ref, "ME2: Mercado Livre tracks it itself, there is no tracking call")
    if mode != "me1":
        return _refused(
            ref,
            f"shipping mode {mode}: Mercado Livre documents no tracking call outside Mercado "
            "Envios 1 (send the code to the buyer by message)",
        )
    if _holds(shipment, update.tracking_code):
        return SendResult(ref=ref, ok=True)
    if not update.tracking_url:
        return _refused(
            ref,
            "Mercado Livre takes the tracking number together with its URL: record it with "
            "`erpsync shipments set ORDER --tracking CODE --url URL`",
        )
    body = {
        "status": "shipped",
        "substatus": None,  # required in V2, JSON null
        "tracking_number": update.tracking_code,
        "tracking_url": update.tracking_url,
    }
    try:
        post(f"/v2/shipments/{ref}/seller_notifications", body)
    except RetriableError as exc:
        return SendResult(ref=ref, ok=False, retry=True, error=_line(exc))
    except FatalError as exc:
        text = _line(exc)
        try:
            again = get(ref)
        except (RetriableError, FatalError):
            again = None
        if again is not None and _holds(again, update.tracking_code):
            return SendResult(ref=ref, ok=True)
        return _refused(ref, text)
    return SendResult(ref=ref, ok=True)


def _holds(shipment: dict[str, Any], code: str) -> bool:
    """Whether ML already shows the package dispatched with this code."""
    return shipment.get("status") in DISPATCHED and shipment.get("tracking_number") == code


def _line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def _refused(ref: str, error: str) -> SendResult:
    return SendResult(ref=ref, ok=False, error=error)
