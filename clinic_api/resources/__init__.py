"""Document <-> API conversion, one module per resource: the API shapes the handlers answer and
the request bodies bound into what the store writes. Nothing here touches the database."""
