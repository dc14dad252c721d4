"""A streaming replica of the tests' embedded PostgreSQL server, made by pg_basebackup and
run as the server's own system user, on a socket of its own."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

from db.embedded import binary


class Replica:
    """``Replica(primary_url, apply_delay_ms)``: a hot standby streaming from the primary;
    ``url`` names its maintenance database the way ``primary_url`` does."""

    def __init__(self, primary_url: str, apply_delay_ms: int) -> None:
        parts = urlsplit(primary_url)
        socket_dir = parse_qs(parts.query)["host"][0]
        owner = pwd.getpwuid(os.stat(socket_dir).st_uid)
        self._user = owner.pw_name
        # Named like the tests' server, so that CI's check for leftover servers sees it.
        self.base = Path(tempfile.mkdtemp(prefix="rewards-test-pg-replica-"))
        os.chown(self.base, owner.pw_uid, owner.pw_gid)
        self.data = self.base / "pgdata"
        self._run(
            "pg_basebackup",
            [
                "-h",
                socket_dir,
                "-U",
                parts.username or "postgres",
                "-D",
                str(self.data),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
            ],
        )
        # The primary keeps its socket in its data folder: the copy has its lock file.
        for lock in self.data.glob(".s.PGSQL.*"):
            lock.unlink()
        with (self.data / "postgresql.auto.conf").open("a") as conf:
            # Applying late makes a read that does not wait for its own writes miss them.
            conf.write(f"recovery_min_apply_delay = '{apply_delay_ms}ms'\n")
        self.url = urlunsplit(
            (parts.scheme, parts.netloc, parts.path, f"host={self.data}", parts.fragment)
        )
        self.start()

    def _run(self, program: str, args: list[str]) -> None:
        subprocess.run([binary(program), *args], check=True, user=self._user, capture_output=True)

    def start(self) -> None:
        log = str(self.base / "replica.log")
        options = f"-h '' -k {self.data}"
        self._run("pg_ctl", ["-D", str(self.data), "-o", options, "-l", log, "-w", "start"])

    def stop(self) -> None:
        self._run("pg_ctl", ["-D", str(self.data), "-m", "immediate", "-w", "stop"])

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.base, ignore_errors=True)
