"""Stock effects of an order: the pure decision of what an order's new status does to stock.

An order's effect on stock is a small state machine kept on the order row (``stock_effect``):

    none ──pending──▶ reserved ──paid+──▶ deducted ──cancelled──▶ returned
      │                  └────cancelled──▶ released
      ├──paid+ (arrived already paid)──▶ deducted
      └──cancelled (arrived already cancelled)──▶ closed   (touches nothing)

"paid+" is any of paid, invoiced, shipped, delivered. Each arrow is applied at most once,
because the engine writes the new state and the ledger movements in one transaction, and every
movement carries an idempotency key made of the order, its version and the transition. States
only move forward: a stale "pending" seen after "paid" (overlapping windows, replays,
out-of-order notifications) changes nothing. The one way back is a channel reverting a
cancellation: a newer version of a released/returned/closed order that is pending or paid+
again reserves or deducts again (``reinstated``), once for that version.
Orders fulfilled by the channel (Full, FBA) ship from the channel's warehouse: always "none".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from erpsync.domain import OrderStatus


class Effect(StrEnum):
    NONE = "none"
    RESERVED = "reserved"
    DEDUCTED = "deducted"
    RELEASED = "released"
    RETURNED = "returned"
    CLOSED = "closed"


class Action(StrEnum):
    """What to write to the ledger for one transition."""

    RESERVE = "reserve"  # reserved += items
    DEDUCT = "deduct"  # on_hand -= items (baixa)
    CONVERT = "convert"  # reserved -= what was reserved; on_hand -= items
    RELEASE = "release"  # reserved -= what was reserved
    RETURN = "return"  # on_hand += what was deducted


@dataclass(frozen=True)
class Transition:
    effect: Effect
    action: Action | None
    #: a cancelled order the channel brought back: stock is booked again
    reinstated: bool = False


_PAID_OR_LATER = frozenset(
    {OrderStatus.PAID, OrderStatus.INVOICED, OrderStatus.SHIPPED, OrderStatus.DELIVERED}
)
_TERMINAL = frozenset({Effect.RELEASED, Effect.RETURNED, Effect.CLOSED})


def decide(
    previous: Effect | str, status: OrderStatus, *, fulfilled_by_channel: bool
) -> Transition:
    """Given the effect already applied and the order's new status, say what to do now."""
    previous = Effect(previous)
    if fulfilled_by_channel:
        return Transition(previous, None)
    if previous in _TERMINAL:
        # the caller passes only newer versions: pending or paid+ after a cancellation means
        # the channel reverted it (a refund undone, a cancellation disputed)
        if status is OrderStatus.CANCELLED:
            return Transition(previous, None)
        if status in _PAID_OR_LATER:
            return Transition(Effect.DEDUCTED, Action.DEDUCT, reinstated=True)
        return Transition(Effect.RESERVED, Action.RESERVE, reinstated=True)
    if status is OrderStatus.CANCELLED:
        if previous is Effect.RESERVED:
            return Transition(Effect.RELEASED, Action.RELEASE)
        if previous is Effect.DEDUCTED:
            return Transition(Effect.RETURNED, Action.RETURN)
        return Transition(Effect.CLOSED, None)
    if status in _PAID_OR_LATER:
        if previous is Effect.NONE:
            return Transition(Effect.DEDUCTED, Action.DEDUCT)
        if previous is Effect.RESERVED:
            return Transition(Effect.DEDUCTED, Action.CONVERT)
        return Transition(previous, None)
    # pending
    if previous is Effect.NONE:
        return Transition(Effect.RESERVED, Action.RESERVE)
    return Transition(previous, None)
