"""The Anymarket emulator: API v2 at its real paths, for tests and `sandbox: true`.

It imports nothing from the connector it checks: the wire shapes are built here, from the
SDKs' DTOs and samples. ``app.py`` (the Emulator subclass and its routes), ``seed.py``
(deterministic catalogue and orders), ``wire.py`` (the JSON shapes).
"""

from erpsync.connectors.anymarket.emulator.app import AnymarketEmulator

__all__ = ["AnymarketEmulator"]
