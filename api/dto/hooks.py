"""Wire types of the card processor's hook (/v1/hooks/…)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from api.dto.common import (
    Input,
)


class HookBatch(Input):
    transactions: Annotated[list[msgspec.Raw], Meta(min_length=1, max_length=1000)]
