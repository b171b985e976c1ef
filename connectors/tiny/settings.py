"""Config blocks of a `type: tiny` connector (Olist ERP, API v3)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

#: `limit` of the v3 list endpoints: "Limite da paginação", default 100 (TINY_V3_OPENAPI.json)
MAX_LIMIT = 100


class TinyCredentials(BaseModel):
    """An app of the ERP's "Aplicativos" module (client id and secret) and a refresh token.

    The refresh token rotates on every use (Keycloak): erpsync persists each new one; the one
    here is only the first. `erpsync connectors authorize NAME` obtains it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    refresh_token: SecretStr | None = None


class TinyOptions(BaseModel):
    """Ids of the ERP's own records the orders it receives need, and pacing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: the redirect URI registered with the app (needed by `connectors authorize`)
    redirect_uri: str | None = None
    #: channel connector name -> the ERP's e-commerce (`ecommerce.id`) it sells through: the
    #: ERP keeps `numeroPedidoEcommerce` only for an order of a registered e-commerce
    ecommerce_ids: dict[str, int] = Field(default_factory=dict)
    #: the depósito orders are created in (`deposito.id`); unset: the ERP's default
    deposito_id: int | None = None
    #: `naturezaOperacao.id` for the orders (the ERP's default when unset)
    natureza_operacao_id: int | None = None
    #: `vendedor.id` for the orders
    vendedor_id: int | None = None
    #: `pagamento.formaRecebimento.id` for the orders (the ERP's own list of payment forms)
    forma_recebimento_id: int | None = None
    #: `pagamento.meioPagamento`: 1 Dinheiro ... 17 Pix, 99 Outros (the v3 enum); default 99
    meio_pagamento: int = 99
    #: also pull the ERP's own sales orders (those erpsync did not create, e.g. Hub da Olist's)
    #: as read-only orders: never pushed back, no local stock effects when this ERP is
    #: stock.source
    import_orders: bool = False
    #: the share of the account's per-minute budget left free (it is shared by every app on
    #: the account: the ERP's own integrations must keep working)
    budget_reserve: float = Field(default=0.3, ge=0.0, le=0.9)
    #: requests per minute before the first X-RateLimit-Limit is seen (the lowest plan's 30)
    requests_per_minute: int = Field(default=30, ge=1, le=1000)
    limit: int = Field(default=MAX_LIMIT, ge=1, le=MAX_LIMIT)
