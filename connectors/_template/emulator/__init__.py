"""The platform's emulator: a Starlette app at the real paths, for tests and `sandbox: true`.

It imports nothing from the connector it checks (else it would agree with the connector's bugs):
the wire shapes are built here, from the platform's docs. Same file names in every connector:
``app.py`` (the Emulator subclass and its routes), ``seed.py`` (deterministic accounts and
orders), ``wire.py`` (the platform's JSON shapes), more modules per resource when it grows.
"""

from erpsync.connectors._template.emulator.app import TemplateEmulator

__all__ = ["TemplateEmulator"]
