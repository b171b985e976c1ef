"""Config blocks of a `type: nuvemshop` connector: the store's access token and its options."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

#: `per_page` ceiling of the list endpoints (ref: TiendaNube/api-docs README, "Pagination":
#: "per_page ... up to 200"; the ERP guide repeats it)
MAX_PER_PAGE = 200


class NuvemshopCredentials(BaseModel):
    """The store's access token (it never expires; there is no refresh token).

    ``client_id``/``client_secret`` are the app's, needed only by `erpsync connectors
    authorize`, which trades the consent code for a token and stores it; a token given here
    wins over a stored one.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    access_token: SecretStr | None = None
    #: the app id of the Nuvemshop Partners portal (the `{app_id}` of the consent URL)
    client_id: str | None = None
    client_secret: SecretStr | None = None


class NuvemshopOptions(BaseModel):
    """Per-store knobs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: the store id (`user_id` of the token answer): every path is `/{store_id}/...`
    store_id: int = Field(gt=0)
    #: required by the API (400 without it): "AppName (contact e-mail or URL)"
    user_agent: str = Field(min_length=3)
    #: orders and products per page; 200 is the documented maximum
    per_page: int = Field(default=MAX_PER_PAGE, ge=1, le=MAX_PER_PAGE)
    #: multi-inventory: the Nuvemshop location (`location_id`) this connector's quantities go
    #: to, sent as `inventory_levels`; unset: the variant's `stock` (its first location)
    location_id: str | None = None
    #: multi-inventory, one quantity per location: erpsync location -> Nuvemshop
    #: `location_id`; each erpsync location's availability goes to its own inventory level.
    #: Its keys must be exactly the connector's `locations`; not with `location_id`
    location_ids: dict[str, str] = Field(default_factory=dict)
    #: let Nuvemshop e-mail the buyer when an order is fulfilled with its tracking code
    notify_customer: bool = True
    #: where buyers and apps fetch an NF-e's XML, `{key}` standing for its access key (e.g. your
    #: ERP's or storage's URL); sent as the NF-e's `link` metafield and list entry. Unset: no
    #: link is sent (erpsync keeps the XML, it does not host it)
    nfe_link: str | None = Field(default=None, pattern=r"^https?://[^{}]*\{key\}[^{}]*$")

    @model_validator(mode="after")
    def _one_way_to_locate(self) -> NuvemshopOptions:
        if self.location_id is not None and self.location_ids:
            raise ValueError(
                "location_id (one location for everything) and location_ids (one per erpsync "
                "location) exclude each other; keep one"
            )
        if len(set(self.location_ids.values())) != len(self.location_ids):
            raise ValueError("location_ids: two erpsync locations map to one Nuvemshop location")
        return self
