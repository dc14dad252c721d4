"""HTTP API (Litestar) and the ``rewards`` command line."""
