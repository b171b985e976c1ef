"""Config blocks of a `type: mercadolivre` connector: its credentials and options."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

#: ML caps `limit` at 50 on /orders/search
#: (ref: developers.mercadolivre.com.br/pt_br/gerenciamento-de-vendas)
MAX_PAGE_SIZE = 50


class MercadoLivreCredentials(BaseModel):
    """The app's OAuth client and the seller's (rotating, single-use) refresh token."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str = Field(min_length=1, description="App ID from the ML DevCenter")
    client_secret: SecretStr = Field(description="App secret key from the ML DevCenter")
    refresh_token: SecretStr | None = Field(
        default=None,
        description="TG-... refresh token; erpsync stores every rotated one in its database. "
        "Leave it out and run `erpsync connectors authorize NAME` to get one.",
    )


class MercadoLivreOptions(BaseModel):
    """Per-account knobs; every one has a default that works against the real API."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seller_id: int | None = Field(
        default=None,
        gt=0,
        description=(
            "ML user id of the seller; if absent, the token response's user_id, else GET /users/me"
        ),
    )
    redirect_uri: str | None = Field(
        default=None, description="Redirect URI registered for the app (for `connectors authorize`)"
    )
    page_size: int = Field(default=MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    requests_per_second: float | None = Field(
        default=None,
        gt=0,
        description="Raise (or lower) the request rate if ML granted the app another quota; "
        "default 10/s for reads, half for stock writes",
    )
    site_id: str = Field(
        default="MLB", pattern=r"^[A-Z]{3}$", description="ML site; MLB is Mercado Livre Brasil"
    )
