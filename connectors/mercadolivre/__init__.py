"""Mercado Livre (api.mercadolibre.com) connector: exports the connector class only."""

from connectors.mercadolivre.connector import MercadoLivreConnector

__all__ = ["MercadoLivreConnector"]
