"""Built-in connectors: one package per platform."""
