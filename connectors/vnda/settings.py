"""Config blocks of a `type: vnda` connector (E-commerce da Olist, ex-Vnda): the store's API
token and which store it is."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

#: `per_page` ceiling of GET /api/v2/orders and /products [R: public clients say "máx 100";
#: the docs' "Filtros e paginação" page names no number]
MAX_PER_PAGE = 100


class VndaCredentials(BaseModel):
    """The token made in Admin → Configurações → Integrações → API (it is e-mailed to the
    person named there and never expires; ref: developers.vnda.com.br, "Chave de acesso e
    requisições")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    token: SecretStr


class VndaOptions(BaseModel):
    """Which store, and how its orders are read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: the store's host, sent as `X-Shop-Host` on every call (www.minhaloja.com.br)
    shop_host: str = Field(min_length=3)
    #: where the Orders Feed lives; unset: the connector's `base_url` when one is configured
    #: (the API reference shows the feed on https://api.vnda.com.br too), else
    #: https://{shop_host} (the vendor's curl)
    feed_base_url: str | None = None
    #: "feed": the Orders Feed (the vendor's recommendation for integrations: every change of
    #: every order, marked once stored); "list": GET /api/v2/orders by received date (sees no
    #: change to an order received before the window: use it to backfill)
    orders_from: Literal["feed", "list"] = "feed"
    #: mark feed events once stored, so the feed moves on; turn off when another system reads
    #: the same store's feed and must still see them (then each pull reads one feed answer)
    mark_feed: bool = True
    #: orders and products per page of the dated lists
    per_page: int = Field(default=MAX_PER_PAGE, ge=1, le=MAX_PER_PAGE)
    #: stock pushes of more SKUs than this go through the batch endpoint (applied in the
    #: background, read back on the next run); fewer go one SKU per call with its own answer
    batch_from: int = Field(default=20, ge=1)

    @field_validator("shop_host")
    @classmethod
    def _bare_host(cls, value: str) -> str:
        host = value.strip().lower()
        if "://" in host or "/" in host or " " in host:
            raise ValueError("a bare host such as www.minhaloja.com.br (no https://, no path)")
        return host

    @field_validator("feed_base_url")
    @classmethod
    def _origin(cls, value: str | None) -> str | None:
        if value is None:
            return None
        url = value.strip().rstrip("/")
        if not url.startswith(("https://", "http://")):
            raise ValueError("an origin such as https://www.minhaloja.com.br")
        return url
