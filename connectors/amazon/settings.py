"""The `type: amazon` config block: LWA credentials and the seller's SP-API options."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

#: Amazon.com.br; ref: https://developer-docs.amazon.com/sp-api/docs/marketplace-ids
BRAZIL_MARKETPLACE_ID = "A2Q3Y263D00KWC"


class AmazonCredentials(BaseModel):
    """Login with Amazon (LWA) app credentials and the seller's refresh token.

    The LWA refresh token is long-lived and not rotated (it dies when the seller revokes the
    app), so nothing here is ever rewritten by erpsync.
    ref: https://developer-docs.amazon.com/sp-api/docs/connecting-to-the-selling-partner-api
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    refresh_token: SecretStr


class AmazonOptions(BaseModel):
    """Which seller and marketplace to sync, and how stock is pushed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: the merchant token (Seller Central > Account info > Merchant Token), used in Listings paths
    seller_id: str = Field(min_length=1)
    marketplace_id: str = BRAZIL_MARKETPLACE_ID
    #: fetch buyer and shipping address through a Restricted Data Token; needs the app's
    #: restricted roles (Direct-to-Consumer Shipping, Tax Invoicing for BR tax data)
    restricted_data: bool = False
    #: a push with more updates than this goes through one JSON_LISTINGS_FEED instead of one
    #: patchListingsItem per SKU (5 req/s): 20 SKUs are 4 s of PATCHes, while a feed costs a
    #: few calls plus Amazon's processing time (minutes)
    feed_threshold: int = Field(default=20, ge=0)
    #: productType sent with patches when the update does not carry one (PATCH requires it)
    product_type: str = Field(default="PRODUCT", min_length=1)
    #: locale of listing issue messages (patch responses, feed processing reports)
    issue_locale: str = "pt_BR"
    #: seconds between getFeed polls, and how many polls before giving up on a feed
    feed_poll_seconds: float = Field(default=30.0, ge=0)
    feed_max_polls: int = Field(default=60, ge=1)
    #: the Delivery by Amazon programType NF-e go under: SelfShip (the seller's own carrier)
    #: or EasyShip (Amazon collects)
    invoice_program: Literal["SelfShip", "EasyShip"] = "SelfShip"
