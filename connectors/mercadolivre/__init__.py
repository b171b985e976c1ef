"""Mercado Livre (api.mercadolibre.com) connector: exports the connector class only."""

from erpsync.connectors.mercadolivre.connector import MercadoLivreConnector

__all__ = ["MercadoLivreConnector"]
