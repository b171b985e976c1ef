"""Bling ERP API v3 connector."""

from erpsync.connectors.bling.connector import BlingConnector

__all__ = ["BlingConnector"]
