"""Wire types of the card processor's hook (/v1/hooks/…)."""

from __future__ import annotations

from typing import Annotated, ClassVar

import msgspec
from msgspec import Meta

from api.dto.common import (
    Input,
)


class HookBatch(Input):
    # Each item is decoded (and refused) on its own, so that one bad item does not fail the
    # others: the batch's body as a whole is not searched for unstorable text.
    items_decoded_alone: ClassVar[bool] = True

    transactions: Annotated[list[msgspec.Raw], Meta(min_length=1, max_length=1000)]
