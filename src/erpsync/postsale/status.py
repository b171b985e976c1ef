"""How a status set here (``invoiced``, when an NF-e is attached) meets the next pull.

The rule: an order's stored status is the channel's, except that local progress is kept while
the channel still reports an earlier stage. Channels that do not model invoicing (Amazon,
Magalu, files, Mercado Livre outside ME2) keep saying "paid" after the seller invoiced; that
must not undo ``invoiced``. Any later stage the channel reports (shipped, delivered) replaces
it, and so does ``cancelled``, whose stock effect and NF-e advice must not be hidden.
``shipped`` set here (the channel accepted the seller's tracking) is kept the same way while
the channel still reports pending, paid or invoiced.
"""

from __future__ import annotations

from erpsync.domain import OrderStatus

#: stages a channel may report that come before the order was invoiced here
_BEFORE_INVOICED = frozenset({OrderStatus.PENDING, OrderStatus.PAID})
_BEFORE_SHIPPED = _BEFORE_INVOICED | {OrderStatus.INVOICED}


def merge_status(stored: str, pulled: OrderStatus) -> OrderStatus:
    """The status to store when a pull brings ``pulled`` for an order stored as ``stored``."""
    if stored == OrderStatus.INVOICED and pulled in _BEFORE_INVOICED:
        return OrderStatus.INVOICED
    if stored == OrderStatus.SHIPPED and pulled in _BEFORE_SHIPPED:
        return OrderStatus.SHIPPED
    return pulled
