"""TEMPLATE: copy this folder to connectors/<platform>/ and fill in every TODO.

Exports the connector class only (the registry names ``erpsync.connectors.<platform>:<Class>``).
The template itself is not installed (pyproject lists it nowhere); mypy and
tests/test_template.py check that it stays importable and typed.
"""

from erpsync.connectors._template.connector import TemplateConnector

__all__ = ["TemplateConnector"]
