"""Mercado Livre's emulator: api.mercadolibre.com's seller endpoints as a Starlette app.

It imports nothing from the connector it checks (else it would agree with the connector's
bugs): the wire shapes are built here, from ML's docs. ``app.py`` holds the Emulator subclass
(auth, users, orders, shipments), ``items.py`` the item search, multiget and stock writes,
``invoices.py`` the NF-e import, ``seed.py`` the sandbox account and ``wire.py`` ML's JSON shapes.
"""

from erpsync.connectors.mercadolivre.emulator.app import MercadoLivreEmulator

__all__ = ["MercadoLivreEmulator"]
