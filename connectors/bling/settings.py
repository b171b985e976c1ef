"""Config blocks of a `type: bling` connector: the OAuth app and tokens, and the account's
options (which loja the orders are filed under, payment defaults, situação names)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from erpsync import documents

#: `limite` ceiling of Bling's list endpoints (developer.bling.com.br FAQ "Quantos registros
#: são retornados por página": 100) [U: the notes quote it from memory; the SDK does not cap it]
MAX_PAGE_SIZE = 100


class BlingCredentials(BaseModel):
    """The OAuth app (Central de Extensões > Área do Integrador) and the account's tokens.

    ``refresh_token``: the one `erpsync connectors authorize` stored is used when this is
    unset; one given here wins until it is rotated (Bling rotates it on every refresh).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    refresh_token: SecretStr | None = None


class Intermediador(BaseModel):
    """The marketplace a channel's sales go through, for the NF-e of a marketplace sale
    (`infIntermed`: the intermediary's CNPJ and the seller's account name there). Bling takes it
    on the order as `intermediador{cnpj, nomeUsuario}` and carries it into the NF-e it issues.
    ref: POST /pedidos/vendas `intermediador` (AlexandreBellas/bling-erp-api-js
    `pedidosVendas/interfaces/create.interface.ts`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: the marketplace's CNPJ (Mercado Livre: 03.007.331/0001-41)
    cnpj: str
    #: the seller's user name at the marketplace (NF-e `idCadIntTran`: at most 60 characters)
    nome_usuario: str = Field(min_length=1, max_length=60)

    @field_validator("cnpj")
    @classmethod
    def _valid_cnpj(cls, value: str) -> str:
        return documents.cnpj(value)


class BlingOptions(BaseModel):
    """Per-account knobs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: the app's "Link de redirecionamento", needed by `erpsync connectors authorize`
    redirect_uri: str | None = None
    #: the Bling loja (sales channel) id orders are filed under, per channel connector name
    #: (`lojas: {ml-main: 204587412}`); `loja_id` for channels not listed. `numeroLoja` (the
    #: channel's order number) together with the loja names an order in Bling.
    lojas: dict[str, int] = Field(default_factory=dict)
    loja_id: int | None = Field(default=None, gt=0)
    #: the forma de pagamento id the single parcela of each order uses (Bling: Cadastros >
    #: Formas de pagamento); unset: no parcelas are sent and Bling applies its default
    forma_pagamento_id: int | None = Field(default=None, gt=0)
    #: the situação names of the account's "Vendas" module: situação ids differ per account
    #: and are looked up by name (GET /situacoes/modulos)
    situacao_cancelado: str = "Cancelado"
    #: channel connector name -> the marketplace its sales go through (`intermediador` on
    #: each order: required on the NF-e of a marketplace sale); channels not listed (the
    #: seller's own store) send none
    intermediadores: dict[str, Intermediador] = Field(default_factory=dict)
    #: the unit sent on each item
    unidade: str = "UN"
    #: records per page of list endpoints
    page_size: int = Field(default=MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    #: requests per second erpsync may spend: Bling allows 3 per account, shared by every app
    #: the seller installed; lower it to leave room for them
    requests_per_second: float = Field(default=3.0, gt=0, le=3.0)
