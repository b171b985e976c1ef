"""Amazon SP-API's emulator: a Starlette app at the real paths, for tests and `sandbox: true`.

It imports nothing from the connector it checks (else it would agree with the connector's bugs):
``app.py`` (AmazonEmulator: LWA, RDT, Orders v0 routes, usage plans), ``listings.py`` (Listings
Items 2021-08-01), ``feeds.py`` (Feeds 2021-06-30 and the pre-signed S3 documents), ``seed.py``
(the sandbox seller and deterministic orders, from ``sandbox.json``), ``wire.py`` (SP-API's
error envelope, times and page tokens).
"""

from erpsync.connectors.amazon.emulator.app import AmazonEmulator

__all__ = ["AmazonEmulator"]
