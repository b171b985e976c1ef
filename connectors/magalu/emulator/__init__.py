"""The Magalu emulator: ID Magalu's token endpoint and the seller Open API, in-process.

Imports nothing from the connector it checks (else it would agree with the connector's bugs):
``app.py`` (MagaluEmulator and its routes), ``seed.py`` (the sandbox catalogue in
``catalog.json`` and generated orders), ``wire.py`` (the Open API's JSON shapes and query
conventions, written from the docs).
"""

from erpsync.connectors.magalu.emulator.app import MagaluEmulator

__all__ = ["MagaluEmulator"]
