"""Named SQL queries loaded once from db/queries/*.sql."""

from __future__ import annotations

import re
from pathlib import Path

QUERY_DIR = Path(__file__).parent / "queries"
_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


class UnknownQuery(KeyError):
    """A query name that no .sql file defines."""


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


def load_queries(directory: Path = QUERY_DIR) -> dict[str, str]:
    """Load every named query of every .sql file in ``directory``."""
    queries: dict[str, str] = {}
    for path in sorted(directory.glob("*.sql")):
        for name, sql in parse_queries(path.read_text(encoding="utf-8"), path.name).items():
            if name in queries:
                raise ValueError(f"{path.name}: query {name} is defined in another file too")
            queries[name] = sql
    return queries


QUERIES = load_queries()


def sql(name: str) -> str:
    """The SQL text of the named query."""
    try:
        return QUERIES[name]
    except KeyError:
        raise UnknownQuery(name) from None
