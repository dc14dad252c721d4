"""Writes db/schema.sql: the schema every migration produces, dumped by pg_dump.

Run ``python -m db.schema`` after adding a migration. It starts a throwaway embedded server,
applies the migrations and dumps the schema; tests/integration/test_migrations.py checks that
the file and the migrations agree.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import tempfile
from pathlib import Path

from db.embedded import EmbeddedPostgres, binary
from db.migrate import migrate
from db.pool import connect, ensure_database

SCHEMA_FILE = Path(__file__).with_name("schema.sql")
HEADER = """\
-- The schema that applying every migration in db/migrations/ to an empty database produces
-- (pg_dump --schema-only). Read it to see the tables as they are; change the schema with a
-- new migration, then regenerate this file: `python -m db.schema`.
-- tests/integration/test_migrations.py proves the two agree.
"""


def dump(dsn: str) -> str:
    """The schema of the database at ``dsn`` as SQL, without owners, grants or dump dates."""
    out = subprocess.run(
        [binary("pg_dump"), "--schema-only", "--no-owner", "--no-privileges", "-d", dsn],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    kept = [
        line
        for line in out.splitlines()
        if not line.startswith(("-- Dumped", "\\restrict", "\\unrestrict"))
    ]
    return HEADER + re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip() + "\n"


def main() -> None:
    server = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="rewards-schema-")), delete=True)
    try:

        async def migrated() -> None:
            await ensure_database(server.dsn("postgres"), "schema_dump")
            conn = await connect(server.dsn("schema_dump"))
            try:
                await migrate(conn)
            finally:
                await conn.close()

        asyncio.run(migrated())
        SCHEMA_FILE.write_text(dump(server.dsn("schema_dump")))
    finally:
        server.stop()
    print(f"wrote {SCHEMA_FILE}")


if __name__ == "__main__":
    main()
