"""PyMongo store: one module per collection, functions named by intent."""
