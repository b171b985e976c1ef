"""Config blocks of a `type: lojaintegrada` connector: the key pair and per-store options."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

#: `limit` ceiling of GET /v1/pedido/search in the current spec (the deprecated one said 100;
#: ref: the v2 OpenAPI's GET /v1/pedido/search description, via the public spec-diff notes)
MAX_LIMIT = 50


class LojaIntegradaCredentials(BaseModel):
    """The pair sent as `Authorization: chave_api <api_key> aplicacao <app_key>`.

    ``api_key`` (chave_api) identifies the store: the seller creates it in the panel
    (Configurações > Chave para API; paid plans only, per an integrator's help article).
    ``app_key`` (chave_aplicacao) identifies the integrator: Loja Integrada issues it to
    partner applications (it is IP-restricted).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_key: SecretStr
    app_key: SecretStr


class LojaIntegradaOptions(BaseModel):
    """Per-store knobs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: orders and products per page; 50 is the documented maximum of /v1/pedido/search
    limit: int = Field(default=MAX_LIMIT, ge=1, le=MAX_LIMIT)
    #: the zone of the API's offset-less times (data_criacao, since_atualizado): the store's
    #: local time, Brasília [R: public notes compare the webhook's UTC stamps with GET's]
    timezone: str = "America/Sao_Paulo"
    #: `PUT /v1/produto_estoque` also sets the availability shown to buyers, in days:
    #: while in stock (0: immediate) and when out of stock (-1: unavailable); both are
    #: sent on every push, as the documented body has them
    situacao_em_estoque: int = Field(default=0, ge=-1)
    situacao_sem_estoque: int = Field(default=-1, ge=-1)
    #: after writing a tracking code, move the order to this situação (empty: do not move)
    shipped_status: str = "pedido_enviado"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"not an IANA time zone: {value!r}") from None
        return value
