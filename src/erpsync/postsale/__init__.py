"""After the sale: NF-e invoices, shipments, pushes to the channels and cancellation advice."""
