from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Principal:
    """The caller: a user id, and whether the token belongs to a backend service."""

    user_id: str
    is_server: bool = False
    email: str = ""
    name: str = ""
    identity_provider: str = ""

    @property
    def is_user(self) -> bool:
        return not self.is_server and bool(self.user_id)
