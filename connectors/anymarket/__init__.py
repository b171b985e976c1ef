"""Anymarket, the marketplace hub (`type: anymarket`): exports the connector class only."""

from erpsync.connectors.anymarket.connector import AnymarketConnector

__all__ = ["AnymarketConnector"]
