"""Loja Integrada's emulator: a Starlette app at the API's real paths, for tests and
`sandbox: true`. It imports nothing from the connector it checks: the wire shapes are built
here, from the platform's docs. ``app.py`` (routes and state), ``seed.py`` (catalogue and
orders), ``wire.py`` (JSON shapes, situações, limits)."""

from erpsync.connectors.lojaintegrada.emulator.app import LojaIntegradaEmulator

__all__ = ["LojaIntegradaEmulator"]
