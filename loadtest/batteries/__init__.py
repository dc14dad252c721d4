"""Batteries: the whole API attacked from its own OpenAPI document."""
