"""The HTTP server process that ``rewards serve`` supervises: uvicorn or granian workers.

``rewards serve`` owns the database (it may have started the embedded server) and runs this
module as a child process, so that however the HTTP server ends — SIGTERM, Ctrl-C, a crash —
the parent is still there afterwards to stop the embedded PostgreSQL. Both servers re-raise
the signal that stopped them once they are done, which would otherwise end the process
before any clean-up of its own could run.
"""

from __future__ import annotations

import argparse
import sys


def run(server: str, host: str, port: int, workers: int) -> None:
    """Serve ``api.app:create_app_from_env`` (the database comes from ``DATABASE_URL``),
    with the limits of :mod:`api.limits` on slow and bloated requests."""
    from api.settings import Settings

    settings = Settings()
    if server == "granian":
        from granian import Granian  # imported here: uvicorn users need not install it
        from granian.constants import Interfaces
        from granian.http import HTTP1Settings

        Granian(
            "api.app:create_app_from_env",
            factory=True,
            address=host,
            port=port,
            workers=workers,
            interface=Interfaces.ASGI,
            log_enabled=False,
            workers_kill_timeout=10,
            # Headers are bounded by granian's HTTP/1 buffer (400 KiB by default).
            http1_settings=HTTP1Settings(
                header_read_timeout=int(settings.header_timeout_seconds * 1000)
            ),
        ).serve()
        return
    import uvicorn

    from api.limits import GuardedHttpTools

    uvicorn.run(
        "api.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=10,
        http=GuardedHttpTools,
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m api.serving`` (started by ``rewards serve``)."""
    parser = argparse.ArgumentParser(prog="python -m api.serving")
    parser.add_argument("--server", choices=["uvicorn", "granian"], default="uvicorn")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    from api.logs import configure_logging
    from api.settings import Settings

    configure_logging(Settings().log_level)
    run(args.server, args.host, args.port, args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
