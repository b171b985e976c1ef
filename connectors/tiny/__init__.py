"""Olist ERP (Tiny) API v3: channel orders in, stock and NF-e out, the ERP's own orders."""

from erpsync.connectors.tiny.connector import TinyConnector

__all__ = ["TinyConnector"]
