"""The sync engine: pulls orders, pushes stock, one run at a time per database."""
