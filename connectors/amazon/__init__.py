"""Amazon Selling Partner API (Amazon.com.br) connector."""

from connectors.amazon.connector import AmazonConnector

__all__ = ["AmazonConnector"]
