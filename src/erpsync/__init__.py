"""erpsync: the integration layer between a seller's ERP and its sales channels."""
