"""Canonical shapes every connector maps to: orders, listings and stock updates.

Money is ``Decimal`` quantized to 2 places; times are timezone-aware and normalised to UTC;
buyer documents are digits only and validated. A connector's mapping builds these objects and
validation happens here, once, so a bad payload fails in mapping (and goes to quarantine)
instead of reaching the store.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from erpsync import documents

CENTS = Decimal("0.01")


class OrderStatus(StrEnum):
    """Our order lifecycle. Every platform status maps onto one of these."""

    PENDING = "pending"
    PAID = "paid"
    INVOICED = "invoiced"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


def to_money(value: Any) -> Decimal:
    """Turn a platform amount (str, int, Decimal; floats via their repr) into 2-place Decimal."""
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, float):
        # str() gives the shortest repr that round-trips, so 129.9 becomes "129.9", not binary noise
        amount = Decimal(str(value))
    elif isinstance(value, int | str):
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise ValueError(f"not an amount: {value!r}") from exc
    else:
        raise ValueError(f"not an amount: {value!r}")
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return amount.quantize(CENTS, rounding=ROUND_HALF_EVEN)


def to_quantity(value: Any) -> int:
    """An order line's quantity as platforms send it: an int, or a string or float of a whole
    one ("2", " 2 ", "1.000", 2.0). Whole and positive: a fraction would be a kit or a bug that
    must not be rounded away."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a quantity: {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"not a quantity: {value!r}") from None
    if not number.is_finite() or number != number.to_integral_value() or number <= 0:
        raise ValueError(f"not a whole positive quantity: {value!r}")
    return int(number)


def to_utc(value: Any) -> datetime:
    """Parse an ISO 8601 string or datetime; refuse naive times; return it in UTC."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            value = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"not an ISO 8601 time: {value!r}") from exc
    if not isinstance(value, datetime):
        raise ValueError(f"not a time: {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"time without a UTC offset: {value.isoformat()}")
    return value.astimezone(UTC)


Money = Annotated[Decimal, BeforeValidator(to_money)]
#: serialised as "2026-11-01T12:00:00+00:00" (an explicit offset, not pydantic's "Z")
UtcDateTime = Annotated[
    datetime,
    BeforeValidator(to_utc),
    PlainSerializer(lambda value: value.isoformat(), return_type=str, when_used="json"),
]


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


OptionalText = Annotated[str | None, BeforeValidator(_blank_to_none)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Buyer(_Frozen):
    name: OptionalText = None
    document: OptionalText = Field(default=None, description="CPF (11) or CNPJ (14), digits only")
    email: OptionalText = None
    phone: OptionalText = None

    @field_validator("document")
    @classmethod
    def _valid_document(cls, value: str | None) -> str | None:
        return None if value is None else documents.cpf_or_cnpj(value)


class Address(_Frozen):
    street: OptionalText = None
    number: OptionalText = None
    complement: OptionalText = None
    district: OptionalText = None
    city: OptionalText = None
    state: OptionalText = Field(default=None, description="UF, two letters")
    zip: OptionalText = Field(default=None, description="CEP, 8 digits")
    country: OptionalText = "BR"

    @field_validator("state")
    @classmethod
    def _valid_uf(cls, value: str | None) -> str | None:
        return None if value is None else documents.uf(value)

    @field_validator("zip")
    @classmethod
    def _valid_cep(cls, value: str | None) -> str | None:
        return None if value is None else documents.cep(value)


class OrderItem(_Frozen):
    sku: OptionalText = None
    channel_item_id: OptionalText = None
    variation_id: OptionalText = None
    title: OptionalText = None
    quantity: int = Field(gt=0)
    unit_price: Money


class Order(_Frozen):
    """One order as erpsync stores it, whatever channel it came from."""

    connector: str
    platform: str
    external_id: str = Field(min_length=1)
    number: OptionalText = None
    status: OrderStatus
    channel_status: str
    created_at: UtcDateTime
    updated_at: UtcDateTime
    currency: str = "BRL"
    items_total: Money
    shipping_cost: Money = Decimal("0.00")
    discount: Money = Decimal("0.00")
    total: Money
    buyer: Buyer = Buyer()
    shipping_address: Address = Address()
    items: tuple[OrderItem, ...] = Field(min_length=1)
    #: fulfilled from the channel's own warehouse (ML Full, Amazon FBA): never touches our stock
    fulfilled_by_channel: bool = False
    #: platform-specific keys worth keeping out of the raw payload (pack_id, delivery ids, ...)
    extra: dict[str, Any] = Field(default_factory=dict)
    #: why a field is empty when the platform withheld it (e.g. no Restricted Data Token)
    notes: tuple[str, ...] = ()
    #: the sale at the marketplace the buyer bought on, "MARKETPLACE:number" (``sale_ref()``):
    #: the same whether the sale is pulled from the marketplace directly or relayed by a hub
    #: (Anymarket), so a sale seen through both moves stock once
    sale_ref: OptionalText = None

    def public_dict(self) -> dict[str, Any]:
        """The fields `orders list/show --json` print: money as strings, times ISO 8601 UTC,
        and whether the channel fulfils it (Full/FBA: a sale that moves none of our stock)."""
        data = self.model_dump(mode="json", exclude={"extra", "notes"})
        return data


#: marketplace names in sale_ref, spelt as Anymarket's `marketPlace` enum spells them
#: (AnyMarket/anymarket-sdk-java `MarketPlace.java`), so a hub's copy matches the direct one
MERCADO_LIVRE = "MERCADO_LIVRE"
AMAZON = "AMAZON"
MAGAZINE_LUIZA = "MAGAZINE_LUIZA"


def sale_ref(marketplace: str | None, number: Any) -> str | None:
    """ "MARKETPLACE:number", the identity of one sale at its marketplace; None when either
    part is missing."""
    market = (marketplace or "").strip().upper()
    text = "" if number is None or isinstance(number, bool) else str(number).strip()
    return f"{market}:{text}" if market and text else None


class Listing(_Frozen):
    """A channel's sellable unit: an item, or one variation of it, linked to our SKU."""

    connector: str
    item_id: str
    variation_id: str | None = None
    sku: OptionalText = None
    title: OptionalText = None
    fulfilled_by_channel: bool = False
    #: what the channel reports as available now, when the listing call returns it
    channel_quantity: int | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    @property
    def ref(self) -> str:
        """ITEM or ITEM:VARIATION, as the CLI shows and accepts it."""
        return f"{self.item_id}:{self.variation_id}" if self.variation_id else self.item_id


class StockUpdate(_Frozen):
    """One quantity to set on one listing (at one location, for a channel that takes stock
    per location: see ``StockSink.stock_locations``)."""

    item_id: str
    variation_id: str | None = None
    sku: str | None = None
    quantity: int = Field(ge=0)
    extra: dict[str, Any] = Field(default_factory=dict)
    #: the erpsync location this quantity is for (the connector maps it to its own id);
    #: None: the listing's one quantity
    location: str | None = None

    @property
    def ref(self) -> str:
        return _stock_ref(self.item_id, self.variation_id, self.location)


class PushResult(_Frozen):
    """The platform's answer for one StockUpdate."""

    item_id: str
    variation_id: str | None = None
    ok: bool
    #: accepted asynchronously (Magalu 202, Amazon ACCEPTED): read back on the next run
    pending: bool = False
    error: str | None = None
    #: the update's ``location`` (answers of per-location pushes carry it back)
    location: str | None = None

    @property
    def ref(self) -> str:
        return _stock_ref(self.item_id, self.variation_id, self.location)


def _stock_ref(item_id: str, variation_id: str | None, location: str | None) -> str:
    """``item[:variation][@location]``: how reports and push results name one quantity."""
    ref = f"{item_id}:{variation_id}" if variation_id else item_id
    return f"{ref}@{location}" if location else ref


def utcnow() -> datetime:
    return datetime.now(UTC)


# -- provisional shapes of the resources no connector implements yet ------------------------------
# The contract (erpsync.connector.resources) already names them, so the ERP and post-sale
# connectors start from one shape; the first implementation of each fixes its fields.


class StockLevel(_Frozen):
    """One SKU's stock at one location as a stock source (an ERP) reports it.

    ``available`` is what the ERP says can be sold (its physical balance less its own
    reservations, computed by the ERP and right for kits); ``on_hand``/``reserved`` are shown
    when the ERP reports them. ``location`` "main" is the ERP's total over the depósitos it
    counts; a per-depósito level carries the depósito's id.
    """

    sku: str
    location: str = "main"
    available: int
    on_hand: int | None = None
    reserved: int | None = None
    #: the ERP's product id (cached by connectors, shown by pull-stock)
    product_id: OptionalText = None
    updated_at: UtcDateTime | None = None


class InvoiceModel(StrEnum):
    NFE = "55"  # NF-e: every sale that is shipped
    NFCE = "65"  # NFC-e: a consumer sale at the counter; only channels that say so take it


class Invoice(_Frozen):
    """One NF-e (modelo 55) or NFC-e (65): the facts read from its authorised XML, and, when
    it is on its way to a channel (InvoiceSink) or comes from an ERP (InvoiceSource), the order
    and shipment it belongs to and the XML itself, byte for byte."""

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
    #: cStat of the protocol (100 or 150); None when the protocol number was given by hand
    status_code: OptionalText = None
    #: tpAmb: 1 production, 2 homologation (no fiscal value; channels refuse it)
    environment: int = 1
    #: channel order numbers the XML names (det/prod/xPed, compra/xPed, infAdic text)
    order_refs: tuple[str, ...] = ()
    #: the order it is for (connector name and the channel's order id), when known
    connector: OptionalText = None
    order_external_id: OptionalText = None
    #: the channel's shipment or delivery it belongs to (ML shipment id, Magalu delivery id)
    shipment_ref: OptionalText = None
    #: the XML as issued (an nfeProc): channels want the authorised document unchanged
    xml: bytes | None = Field(default=None, repr=False)

    @field_validator("access_key")
    @classmethod
    def _valid_key(cls, value: str) -> str:
        return documents.nfe_key(value)

    @field_validator("recipient_document")
    @classmethod
    def _valid_recipient(cls, value: str | None) -> str | None:
        return None if value is None else documents.cpf_or_cnpj(value)


class Label(_Frozen):
    """A shipping label the channel produced for one shipment (``labels fetch``).

    ``format`` is "pdf" or "zpl" (ZPL text, already unzipped); ``content`` the document itself.
    """

    order_external_id: str
    shipment_ref: str = ""
    format: str = "pdf"
    content_type: str = "application/pdf"
    content: bytes = b""
    tracking_code: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_shipment(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("shipment_ref"):
            data = {**data, "shipment_ref": data.get("order_external_id", "")}
        return data


class LabelRequest(_Frozen):
    """One shipment whose label ``labels fetch`` asks the channel for.

    ``status`` is the shipment's state in the channel's words as the last pull stored it
    (Amazon: the order's OrderStatus): enough for a channel to answer without a request when
    the state alone decides (an order not paid yet), fresh enough for the rest to be asked."""

    order_external_id: str
    shipment_ref: str = Field(min_length=1)
    logistic_type: OptionalText = None
    status: OptionalText = None


class LabelResult(_Frozen):
    """The channel's answer for one LabelRequest: the label, or why there is none.

    ``ref`` is the request's ``shipment_ref``. Without a label, ``never`` says the channel
    will never issue one for this shipment (Full, Flex, the seller's own shipping), so it is
    not asked again; otherwise ``reason`` says what it waits for (the NF-e, the shipment's
    state) and the next ``labels fetch`` asks again."""

    ref: str
    label: Label | None = None
    reason: str | None = None
    never: bool = False


class TrackingUpdate(_Frozen):
    """One shipment's carrier and tracking code, sent to its channel (``shipments push``).

    ``shipment_ref`` is the channel's shipment or delivery id (ML shipment, Magalu delivery);
    for channels that ship per order (Amazon, stores) it is the order's id, which is also its
    default. A TrackingSink answers with ``SendResult.ref == update.shipment_ref``.
    """

    order_external_id: str
    shipment_ref: str = ""
    carrier: OptionalText = None
    tracking_code: str = Field(min_length=1)
    tracking_url: OptionalText = None
    shipped_at: UtcDateTime | None = None
    #: the shipment's logistic type as the channel names it (ML ``custom``, Amazon ``MFN``)
    logistic_type: OptionalText = None

    @model_validator(mode="before")
    @classmethod
    def _default_shipment(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("shipment_ref"):
            data = {**data, "shipment_ref": data.get("order_external_id", "")}
        return data


class SendResult(_Frozen):
    """The other side's answer for one record sent to it (an order into an ERP, an invoice or
    tracking code to a channel): a failure is a result, not a raise."""

    ref: str
    ok: bool
    pending: bool = False
    #: the id the receiving side gave the record (an ERP's order number)
    remote_id: str | None = None
    error: str | None = None
    #: a failure worth sending again next run (not ready yet, a transient error); otherwise a
    #: failure is the other side's refusal, kept with its error until fixed by hand
    retry: bool = False
