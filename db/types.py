"""Connection types accepted by the db functions."""

from __future__ import annotations

from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# A plain connection, or one lent by a pool: both run queries the same way.
Conn: TypeAlias = asyncpg.Connection | PoolConnectionProxy

# A budget claim refused at COMMIT (migration 0008): another transaction took the room.
BudgetTaken = asyncpg.SerializationError
