"""Loja Integrada API v1 connector."""

from erpsync.connectors.lojaintegrada.connector import LojaIntegradaConnector

__all__ = ["LojaIntegradaConnector"]
