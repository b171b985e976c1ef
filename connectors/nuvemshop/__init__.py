"""Nuvemshop (Tiendanube) API v1 connector."""

from erpsync.connectors.nuvemshop.connector import NuvemshopConnector

__all__ = ["NuvemshopConnector"]
