"""An order's shipments, read from what the connectors already fetch (``Order.extra``).

Pure functions, no I/O. Each platform's mapping keeps its shipping keys in ``extra``; this
module reads them into ``Shipment`` objects. A connector that knows better may put a
``shipments`` list (``Shipment`` fields) in ``extra`` itself; it is then taken as it is.

Logistic types are kept in the channel's own words, and ``logistic_family`` names them the
way sellers do:
- Mercado Livre: ``drop_off``/``xd_drop_off``/``xd_same_day``/``cross_docking`` are ME2 (the
  NF-e unlocks the label), ``self_service`` is Flex, ``fulfillment`` is Full, ``custom`` and
  ``not_specified`` are ME1/own shipping.
- Amazon: ``MFN`` (merchant-fulfilled; Easy Ship when Amazon picks up) or ``AFN`` (FBA).
- Magalu: per delivery, ``fulfillment`` (Magalu's warehouse) or Magalu Entregas/own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from erpsync.domain import Order
from erpsync.postsale.domain import LabelState, Shipment

_ML_FAMILY = {
    "drop_off": "ME2",
    "xd_drop_off": "ME2",
    "xd_same_day": "ME2",
    "cross_docking": "ME2",
    "self_service": "Flex",
    "fulfillment": "Full",
    "custom": "ME1",
    "not_specified": "ME1",
    "default": "ME1",
}


def logistic_family(platform: str, logistic_type: str | None) -> str | None:
    """ME2/ME1/Full/Flex (Mercado Livre), MFN/AFN (Amazon), Full (Magalu), else as given."""
    if logistic_type is None:
        return None
    if platform == "Mercado Livre":
        return _ML_FAMILY.get(logistic_type, logistic_type)
    if logistic_type == "fulfillment":
        return "Full"
    return logistic_type


def shipments_from_order(order: Order) -> list[Shipment]:
    """The shipments the order's ``extra`` describes (empty when it names none)."""
    extra = order.extra
    declared = extra.get("shipments")
    if isinstance(declared, list):
        return [Shipment.model_validate(item) for item in declared if isinstance(item, Mapping)]
    if order.platform == "Mercado Livre":
        return _mercadolivre(order, extra)
    if order.platform == "Amazon":
        return _amazon(order, extra)
    if order.platform == "Magalu":
        return _magalu(extra)
    return []


def _mercadolivre(order: Order, extra: Mapping[str, Any]) -> list[Shipment]:
    shipment_id = extra.get("shipment_id")
    if not shipment_id:
        return []
    logistic = _text(extra.get("logistic_type"))
    full = order.fulfilled_by_channel or logistic == "fulfillment"
    return [
        Shipment(
            shipment_ref=str(shipment_id),
            logistic_type=logistic,
            fulfilled_by_channel=full,
            status=_text(extra.get("shipment_status")),
            substatus=_text(extra.get("shipment_substatus")),
            # Full and Flex never get a label from /shipment_labels
            label_state=LabelState.NOT_APPLICABLE
            if logistic in {"fulfillment", "self_service"}
            else LabelState.NONE,
        )
    ]


def _amazon(order: Order, extra: Mapping[str, Any]) -> list[Shipment]:
    channel = _text(extra.get("fulfillment_channel"))
    afn = order.fulfilled_by_channel or channel == "AFN"
    return [
        Shipment(
            # Amazon ships (and invoices) per order: the order id is the shipment's reference
            shipment_ref=order.external_id,
            logistic_type=channel,
            fulfilled_by_channel=afn,
            status=order.channel_status,
            label_state=LabelState.NOT_APPLICABLE if afn else LabelState.NONE,
        )
    ]


def _magalu(extra: Mapping[str, Any]) -> list[Shipment]:
    found: list[Shipment] = []
    for delivery in extra.get("deliveries") or ():
        if not isinstance(delivery, Mapping) or not delivery.get("id"):
            continue
        full = bool(delivery.get("fulfillment"))
        found.append(
            Shipment(
                shipment_ref=str(delivery["id"]),
                logistic_type="fulfillment" if full else None,
                fulfilled_by_channel=full,
                status=_text(delivery.get("status")),
                label_state=LabelState.NOT_APPLICABLE if full else LabelState.NONE,
            )
        )
    return found


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)
