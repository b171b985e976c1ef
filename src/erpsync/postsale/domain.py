"""Post-sale shapes: a shipment, invoice sources, push and label states, cancellation advice.

Same rules as erpsync.domain: money is 2-place Decimal, times aware UTC, documents validated.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from erpsync.domain import OptionalText

#: cStat values SEFAZ answers for an authorised NF-e (150: authorised after the deadline)
AUTHORISED_STATUSES = frozenset({"100", "150"})
#: an authorised NF-e may be cancelled (evento 110111) within 24 h of its authorisation;
#: after that the seller issues a return NF-e (devolução) instead
NFE_CANCEL_WINDOW = timedelta(hours=24)


class InvoiceSource(StrEnum):
    MANUAL = "manual"  # `invoices attach`
    IMPORT = "import"  # `invoices import DIR`
    ERP = "erp"  # read from an ERP connector (later issues)


class PushState(StrEnum):
    """One invoice's (or shipment's) state on one channel."""

    SENT = "sent"  # recorded before sending: the outcome is not known yet
    ACCEPTED = "accepted"
    PENDING = "pending"  # accepted for asynchronous processing: read back next run
    REFUSED = "refused"  # the platform said no; carries its error; fixed by hand
    FAILED = "failed"  # transient failure: retried by the next run


class LabelState(StrEnum):
    NONE = "none"  # no label fetched yet
    FETCHED = "fetched"
    NOT_APPLICABLE = "not_applicable"  # the channel ships (Full, FBA) or the seller does


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Shipment(_Frozen):
    """One shipment (ML), delivery (Magalu) or order-level parcel (Amazon) of an order."""

    shipment_ref: str = Field(min_length=1)
    logistic_type: OptionalText = None
    fulfilled_by_channel: bool = False
    carrier: OptionalText = None
    tracking_code: OptionalText = None
    tracking_url: OptionalText = None
    status: OptionalText = None
    substatus: OptionalText = None
    label_state: LabelState = LabelState.NONE


def cancellation_advice(authorised_at: datetime, now: datetime) -> str:
    """What the seller must do with the NF-e of an order the channel cancelled."""
    if now - authorised_at <= NFE_CANCEL_WINDOW:
        deadline = (authorised_at + NFE_CANCEL_WINDOW).isoformat(timespec="minutes")
        return f"cancel the NF-e (allowed until {deadline})"
    return "issue a return NF-e (devolução): the 24 h NF-e cancellation window has passed"
