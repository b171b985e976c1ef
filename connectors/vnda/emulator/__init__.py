"""The Vnda emulator: an independent witness of the connector (it imports nothing from it)."""

from erpsync.connectors.vnda.emulator.app import VndaEmulator

__all__ = ["VndaEmulator"]
