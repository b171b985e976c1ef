"""Stock effects: the state machine that applies each order transition to stock exactly once."""

import pytest

from erpsync.domain import OrderStatus as S
from erpsync.engine.effects import Action as A
from erpsync.engine.effects import Effect as E
from erpsync.engine.effects import decide


@pytest.mark.parametrize(
    ("previous", "status", "effect", "action"),
    [
        # first sight of an order
        (E.NONE, S.PENDING, E.RESERVED, A.RESERVE),
        (E.NONE, S.PAID, E.DEDUCTED, A.DEDUCT),
        (E.NONE, S.SHIPPED, E.DEDUCTED, A.DEDUCT),
        (E.NONE, S.DELIVERED, E.DEDUCTED, A.DEDUCT),
        (E.NONE, S.CANCELLED, E.CLOSED, None),
        # the reservation becomes a deduction (baixa) once paid
        (E.RESERVED, S.PENDING, E.RESERVED, None),
        (E.RESERVED, S.PAID, E.DEDUCTED, A.CONVERT),
        (E.RESERVED, S.INVOICED, E.DEDUCTED, A.CONVERT),
        (E.RESERVED, S.CANCELLED, E.RELEASED, A.RELEASE),
        # deducted orders only move again when cancelled (stock comes back)
        (E.DEDUCTED, S.PAID, E.DEDUCTED, None),
        (E.DEDUCTED, S.SHIPPED, E.DEDUCTED, None),
        (E.DEDUCTED, S.PENDING, E.DEDUCTED, None),
        (E.DEDUCTED, S.CANCELLED, E.RETURNED, A.RETURN),
        # a newer version after a cancellation: the channel reverted it, stock is booked again
        (E.RELEASED, S.PAID, E.DEDUCTED, A.DEDUCT),
        (E.RETURNED, S.PENDING, E.RESERVED, A.RESERVE),
        (E.CLOSED, S.PAID, E.DEDUCTED, A.DEDUCT),
        (E.RETURNED, S.CANCELLED, E.RETURNED, None),
    ],
)
def test_transition_table(previous, status, effect, action):
    """requirement: each (applied effect, new status) pair moves stock at most once."""
    transition = decide(previous, status, fulfilled_by_channel=False)
    assert (transition.effect, transition.action) == (effect, action)


@pytest.mark.parametrize("status", list(S))
def test_orders_fulfilled_by_the_channel_never_touch_stock(status):
    """requirement: Full / FBA orders are imported but leave our stock alone."""
    transition = decide(E.NONE, status, fulfilled_by_channel=True)
    assert transition.action is None
