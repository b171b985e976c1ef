"""The Bling emulator: an independent witness of the connector (it imports nothing from it)."""

from erpsync.connectors.bling.emulator.app import BlingEmulator

__all__ = ["BlingEmulator"]
