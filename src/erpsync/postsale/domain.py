"""Post-sale shapes: an NF-e as erpsync keeps it, a shipment, push states, cancellation advice.

Same rules as erpsync.domain: money is 2-place Decimal, times aware UTC, documents validated.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from erpsync import documents
from erpsync.domain import Money, OptionalText, UtcDateTime

#: cStat values SEFAZ answers for an authorised NF-e (150: authorised after the deadline)
AUTHORISED_STATUSES = frozenset({"100", "150"})
#: an authorised NF-e may be cancelled (evento 110111) within 24 h of its authorisation;
#: after that the seller issues a return NF-e (devolução) instead
NFE_CANCEL_WINDOW = timedelta(hours=24)


class InvoiceModel(StrEnum):
    NFE = "55"  # NF-e: every sale that is shipped
    NFCE = "65"  # NFC-e: consumer sale at the counter; only channels that say so take it


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


class Invoice(_Frozen):
    """One NF-e (modelo 55) or NFC-e (65) read from its XML."""

    access_key: str
    model: InvoiceModel
    number: int = Field(gt=0)
    series: int = Field(ge=0)
    issued_at: UtcDateTime
    #: SEFAZ's receipt time (protNFe dhRecbto); None for a bare NFe attached with --protocol
    authorised_at: UtcDateTime | None = None
    issuer_document: str
    recipient_document: OptionalText = None
    total: Money
    products_total: Money
    freight: Money = Decimal("0.00")
    discount: Money = Decimal("0.00")
    protocol: OptionalText = None
    #: cStat of the protocol; None when the protocol number was given by hand
    status_code: OptionalText = None
    #: tpAmb: 1 production, 2 homologation (test: no fiscal value, channels refuse it)
    environment: int = 1
    #: channel order numbers the XML names (det/prod/xPed, compra/xPed, infAdic text)
    order_refs: tuple[str, ...] = ()

    @field_validator("access_key")
    @classmethod
    def _valid_key(cls, value: str) -> str:
        return documents.nfe_key(value)

    @field_validator("recipient_document")
    @classmethod
    def _valid_recipient(cls, value: str | None) -> str | None:
        return None if value is None else documents.cpf_or_cnpj(value)

    @property
    def cancel_window_from(self) -> datetime:
        """The time the 24 h cancellation window runs from."""
        return self.authorised_at or self.issued_at


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
