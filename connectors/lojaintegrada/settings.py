"""Config blocks of a `type: lojaintegrada` connector: the key pair and per-store options."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

#: `limit` ceiling of GET /v1/pedido/search in the current spec (the deprecated one said 100;
#: ref: the v2 OpenAPI's GET /v1/pedido/search description, via the public spec-diff notes)
MAX_LIMIT = 50


class LojaIntegradaCredentials(BaseModel):
    """One of the two credential sets the API takes, never both (its spec: "duas combinações
    fixas — não é possível misturar os tipos").

    The integrator pair, sent as `Authorization: chave_api <api_key> aplicacao <app_key>`:
    ``api_key`` (chave_api) identifies the store: the seller creates it in the panel
    (Configurações > Chave para API; paid plans only, per an integrator's help article).
    ``app_key`` (chave_aplicacao) identifies the integrator: Loja Integrada issues it to
    partner applications (it is IP-restricted).

    Or the store's own ``personal_token``, sent as `Authorization: Basic <token>`, the token
    as given (not base64-encoded: the spec's example shows it raw) [R: the current v2
    OpenAPI's securitySchemes and info, read through public notes; help article 931152]. The
    store owner generates it (Configurações > Chave para API > Personal token; shown once); it
    expires 3 months after it was generated or last renewed.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_key: SecretStr | None = None
    app_key: SecretStr | None = None
    personal_token: SecretStr | None = None

    @model_validator(mode="after")
    def _one_credential_set(self) -> LojaIntegradaCredentials:
        pair = (self.api_key is not None, self.app_key is not None)
        if self.personal_token is not None:
            if any(pair):
                raise ValueError(
                    "personal_token or the api_key/app_key pair, not both "
                    "(Loja Integrada refuses a mix)"
                )
        elif not all(pair):
            missing = "api_key" if not pair[0] else "app_key"
            if not any(pair):
                missing = "personal_token, or api_key and app_key"
            raise ValueError(f"{missing}: required")
        return self

    @property
    def scheme(self) -> Literal["personal_token", "key_pair"]:
        return "personal_token" if self.personal_token is not None else "key_pair"


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
