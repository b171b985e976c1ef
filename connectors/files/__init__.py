"""The built-in files connector: canonical order files in, stock CSVs out."""

from __future__ import annotations

from erpsync.connectors.files.connector import FilesConnector

__all__ = ["FilesConnector"]
