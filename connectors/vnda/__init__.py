"""E-commerce da Olist (Vnda API v2) connector."""

from erpsync.connectors.vnda.connector import VndaConnector

__all__ = ["VndaConnector"]
