"""Amazon Selling Partner API (Amazon.com.br) connector."""

from erpsync.connectors.amazon.connector import AmazonConnector

__all__ = ["AmazonConnector"]
