"""Magalu (Magazine Luiza) Open API connector."""

from connectors.magalu.connector import MagaluConnector

__all__ = ["MagaluConnector"]
