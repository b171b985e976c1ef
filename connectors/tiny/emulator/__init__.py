"""An in-process Olist ERP (Tiny API v3) that follows the v3 OpenAPI document."""

from erpsync.connectors.tiny.emulator.app import TinyEmulator

__all__ = ["TinyEmulator"]
