"""The named-query loader: each repository's SQL lives in a .sql file beside it.

A file holds named blocks (``-- name: member_get`` followed by the statement), read once
when the module that runs them is imported, and called by name with asyncpg ``$1``
parameters.
"""

from __future__ import annotations

import re
from pathlib import Path

_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


class UnknownQuery(KeyError):
    """A query name that the module's .sql file does not define."""


def parse_queries(text: str, source: str) -> dict[str, str]:
    """Split one .sql file into its named blocks.

    Args:
        text: The file's contents.
        source: The file's name, for error messages.

    Returns:
        Query name to SQL text.
    """
    parts = _NAME.split(text)
    found: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        sql = body.strip()
        if not sql:
            raise ValueError(f"{source}: query {name} is empty")
        if name in found:
            raise ValueError(f"{source}: query {name} defined twice")
        found[name] = sql
    return found


class Queries:
    """The named queries of one .sql file; calling it with a name gives the SQL text."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.by_name = parse_queries(path.read_text(encoding="utf-8"), path.name)

    def __call__(self, name: str) -> str:
        try:
            return self.by_name[name]
        except KeyError:
            raise UnknownQuery(f"{self.path.name} has no query {name}") from None


def queries_beside(module_file: str, filename: str = "queries.sql") -> Queries:
    """The queries of the .sql file next to a module (``queries_beside(__file__)``)."""
    return Queries(Path(module_file).with_name(filename))
