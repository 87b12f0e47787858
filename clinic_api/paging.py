"""A page of a list: the `offset` and `limit` query parameters every list operation takes."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Page:
    offset: int = 0
    limit: int = 10


FIRST_PAGE = Page()
