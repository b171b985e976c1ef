"""The Nuvemshop emulator: an independent witness of the connector (it imports nothing from it)."""

from erpsync.connectors.nuvemshop.emulator.app import NuvemshopEmulator

__all__ = ["NuvemshopEmulator"]
