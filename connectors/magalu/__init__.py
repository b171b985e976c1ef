"""Magalu (Magazine Luiza) Open API connector."""

from erpsync.connectors.magalu.connector import MagaluConnector

__all__ = ["MagaluConnector"]
