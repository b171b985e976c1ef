"""Config blocks of a `type: magalu` connector: ID Magalu credentials and Open API options."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

#: `_limit` ceiling we never exceed. The development guide says each list reports its own
#: `meta.page.max_limit`; the SKU list documents 100
#: (ref: https://developers.magalu.com/docs/seller-produtos/get_skus_list/) and integrators report
#: 100 on orders too, so 100 is the largest page we ask for on any list.
MAX_PAGE_SIZE = 100


class MagaluCredentials(BaseModel):
    """The ID Magalu OAuth client and the seller's consent (a refresh token).

    ``client_id`` is a plain string: ID Magalu calls it the application's *public* id
    (ref: https://developers.magalu.com/docs/first-steps/create-an-application/authentication-authorization).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    #: leave it out and run `erpsync connectors authorize NAME` to get one
    refresh_token: SecretStr | None = None


class MagaluOptions(BaseModel):
    """Per-account knobs of the Magalu Open API connector."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: the sales channel UUID (e.g. Magazine Luiza 9fe0d853-...); sent as X-Channel-Id when set.
    #: Integrators report the token is already scoped to the tenant, so it stays optional.
    channel_id: str | None = None
    #: `_limit` per page; the guide's default is 50 and the server's `max_limit` still caps it
    page_size: int = Field(default=50, ge=1, le=MAX_PAGE_SIZE)
    #: the redirect URI registered on ID Magalu (used by `erpsync connectors authorize`)
    redirect_uri: str | None = None
    #: read each SKU's stock while listing (one extra GET per SKU: off by default)
    listing_stock: bool = False
