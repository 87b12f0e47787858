"""One module per resource family; one function per operationId (CamelCase -> snake_case)."""
