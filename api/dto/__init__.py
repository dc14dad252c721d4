"""Wire types of the HTTP API, one module per caller, and the shapes they share."""
