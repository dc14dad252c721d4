"""One controller module per caller."""
