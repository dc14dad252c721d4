"""In-memory stand-ins for what a use-case service is given: a connection that runs no SQL,
and repositories replaced function by function, so that a service's own logic is tested
without PostgreSQL (the integration tests run the same services on the real database)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from types import ModuleType
from typing import Any

import pytest


class FakeConn:
    """A connection whose transactions nest and do nothing; any SQL fails the test, since
    every statement belongs in a repository."""

    def transaction(self, **_: Any) -> contextlib.AbstractAsyncContextManager[None]:
        @contextlib.asynccontextmanager
        async def nothing() -> AsyncIterator[None]:
            yield

        return nothing()

    def is_in_transaction(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the service ran SQL itself (conn.{name}), not through a repository")


class Calls:
    """What the fakes were called with, in order: ``("name", args...)``."""

    def __init__(self) -> None:
        self.log: list[tuple[Any, ...]] = []

    def names(self) -> list[str]:
        return [c[0] for c in self.log]

    def of(self, name: str) -> list[tuple[Any, ...]]:
        return [c[1:] for c in self.log if c[0] == name]


def fake(
    monkeypatch: pytest.MonkeyPatch,
    module: ModuleType,
    calls: Calls,
    **answers: Any,
) -> None:
    """Replace functions of ``module`` (a repository, or another service) by fakes that note
    their call and answer: a callable is called with the arguments (after the connection),
    anything else is returned as it is."""
    for name, answer in answers.items():
        assert hasattr(module, name), f"{module.__name__} has no {name}"

        def make(name: str, answer: Any) -> Callable[..., Any]:
            async def stand_in(*args: Any, **kwargs: Any) -> Any:
                calls.log.append((name, *args[1:], *kwargs.values()))
                return answer(*args[1:], **kwargs) if callable(answer) else answer

            return stand_in

        monkeypatch.setattr(module, name, make(name, answer))
