"""The connector contract: what a connector declares, and the resources it implements.

- ``base``: ``Connector[Credentials, Options]`` (identity, typed settings, context, consent),
  ``Capability`` and how capabilities derive (``ConnectorCore``: what resources share);
- ``resources``: one abstract class per resource (``OrderSource``, ``ListingSource``,
  ``StockSink``, ``InvoiceSink``, ``LabelSource``, ``TrackingSink``; ERP side ``OrderSink``,
  ``StockSource``, ``InvoiceSource``) and what pulls exchange (``Window``, ``OrderPage``...);
- ``http``: ``HttpConnector[Credentials, Options]``, which assembles an
  ``erpsync.http.HttpSession`` from its declarations.

A connector never loops over pages by hand, sleeps, retries, or opens a database session: the
HTTP layer (``erpsync.http``) and the engine (``erpsync.engine``) own those. Import what a
connector needs from here; the submodules only import downwards (base <- resources, http).
"""

from __future__ import annotations

import erpsync.http  # noqa: F401  (first: loads httpx without its command line, see there)
from erpsync.connector.base import (
    Capability,
    Connector,
    ConnectorContext,
    ConnectorCore,
    ConnectorSettings,
    NoSettings,
    OAuthConsent,
    derive_capabilities,
)
from erpsync.connector.http import HttpConnector
from erpsync.connector.resources import (
    RESOURCES,
    ErpOrderRef,
    InvoiceChanges,
    InvoiceSink,
    InvoiceSource,
    LabelSource,
    ListingSource,
    NothingSeen,
    OrderPage,
    OrderSink,
    OrderSource,
    ProductIds,
    RawOrder,
    SeenOrders,
    StockSink,
    StockSource,
    TrackingSink,
    Window,
)
from erpsync.http.fanout import Outcome, Pending
from erpsync.http.ratelimit import RateLimit

__all__ = [
    "RESOURCES",
    "Capability",
    "Connector",
    "ConnectorContext",
    "ConnectorCore",
    "ConnectorSettings",
    "ErpOrderRef",
    "HttpConnector",
    "InvoiceChanges",
    "InvoiceSink",
    "InvoiceSource",
    "LabelSource",
    "ListingSource",
    "NoSettings",
    "NothingSeen",
    "OAuthConsent",
    "OrderPage",
    "OrderSink",
    "OrderSource",
    "Outcome",
    "Pending",
    "ProductIds",
    "RateLimit",
    "RawOrder",
    "SeenOrders",
    "StockSink",
    "StockSource",
    "TrackingSink",
    "Window",
    "derive_capabilities",
]
