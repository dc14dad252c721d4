"""Numbered .sql migrations, applied in order under an advisory lock."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import msgspec

from db.queries import queries_beside
from db.types import Conn

sql = queries_beside(__file__, "migrate.sql")

MIGRATION_DIR = Path(__file__).parent / "migrations"
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Any constant works; it only has to be the same in every process of this service.
_LOCK_KEY = 0x52455744  # "REWD"


class Migration(msgspec.Struct, frozen=True):
    """One migration file."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """SHA-256 of the file's text, to notice an applied file that was edited."""
        return hashlib.sha256(self.sql.encode()).hexdigest()


class MigrationError(RuntimeError):
    """The database's migration history does not match the files."""


def load_migrations(directory: Path = MIGRATION_DIR) -> list[Migration]:
    """All migration files, in version order."""
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE.match(path.name)
        if not match:
            raise MigrationError(f"bad migration file name: {path.name}")
        found.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise MigrationError(f"migration versions must be 1..n without gaps, got {versions}")
    return found


async def applied_versions(conn: Conn) -> dict[int, str]:
    """Version to checksum of every applied migration (empty before the first)."""
    exists = await conn.fetchval(sql("migrations_history_exists"))
    if not exists:
        return {}
    rows = await conn.fetch(sql("migrations_applied"))
    return {row["version"]: row["checksum"] for row in rows}


async def migrate(conn: Conn) -> list[int]:
    """Apply every pending migration, each in its own transaction.

    Safe when several processes start at once: they queue on an advisory lock and the
    later ones find nothing left to do.

    Returns:
        The versions applied by this call.
    """
    migrations = load_migrations()
    applied_now: list[int] = []
    await conn.execute(sql("migrations_lock"), _LOCK_KEY)
    try:
        await conn.execute(sql("migrations_create_history"))
        done = await applied_versions(conn)
        for migration in migrations:
            if migration.version in done:
                if done[migration.version] != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.version} ({migration.name}) was edited "
                        "after it was applied; add a new migration instead"
                    )
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    sql("migrations_record"),
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
            applied_now.append(migration.version)
    finally:
        await conn.execute(sql("migrations_unlock"), _LOCK_KEY)
    return applied_now


async def is_current(conn: Conn) -> bool:
    """Whether every migration file has been applied, unchanged."""
    done = await applied_versions(conn)
    return all(done.get(m.version) == m.checksum for m in load_migrations())
