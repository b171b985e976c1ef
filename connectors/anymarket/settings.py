"""Config blocks of a `type: anymarket` connector: the integration token and its options."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, SecretStr, model_validator

#: `limit` ceiling of the v2 list endpoints (integrators' clients: 100; [R] in the API notes)
MAX_LIMIT = 100


class AnymarketCredentials(BaseModel):
    """The integration token the seller generates in the ANYMARKET panel, sent as the
    `gumgaToken` header (AnyMarket/anymarket-sdk-java `AnymarketTokenHeader`). It has no
    expiry and no refresh: a new token generated in the panel replaces it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    token: SecretStr


class AnymarketOptions(BaseModel):
    """Per-account knobs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: products per page when listings are pulled (`GET /v2/products?offset=&limit=`)
    page_size: int = Field(default=50, ge=1, le=MAX_LIMIT)
    #: the ANYMARKET stock local (`GET /v2/stocks/locals`) this connector's quantities go to,
    #: sent as `stockLocalId`; unset: the account's default local
    stock_local_id: int | None = Field(default=None, gt=0)
    #: one quantity per erpsync location: erpsync location -> ANYMARKET stock local id, each
    #: location's availability sent with its `stockLocalId`. Its keys must be exactly the
    #: connector's `locations`; not with `stock_local_id`
    stock_local_ids: dict[str, PositiveInt] = Field(default_factory=dict)
    #: write our order reference back as the order's `partnerId`
    #: (`PUT /v2/orders/partnerid/{id}`) once an order is stored, so ANYMARKET shows it
    #: as integrated
    write_partner_id: bool = True

    @model_validator(mode="after")
    def _one_way_to_locate(self) -> AnymarketOptions:
        if self.stock_local_id is not None and self.stock_local_ids:
            raise ValueError(
                "stock_local_id (one local for everything) and stock_local_ids (one per erpsync "
                "location) exclude each other; keep one"
            )
        if len(set(self.stock_local_ids.values())) != len(self.stock_local_ids):
            raise ValueError("stock_local_ids: two erpsync locations map to one stock local")
        return self
