"""What the domain may ask of each other service: one Protocol per integration. Each has a
standalone implementation (kept in our own database) and a tidepool one (HTTP calls to the
reference's services), chosen once by `services.build`."""
from __future__ import annotations

import datetime as _dt
from typing import Protocol

from clinic_api.auth.principal import Principal


class TokenVerifier(Protocol):
    """x-tidepool-session-token -> Principal (auth/tokens.py). A `blocking` verifier does I/O
    and is run in a worker thread (auth/middleware.py)."""

    blocking: bool

    def verify(self, token: str) -> Principal: ...


class Users(Protocol):
    """The user and profile services (integrations/users.py)."""

    def remember(self, principal: Principal) -> None: ...

    def get_user(self, user_id: str) -> dict: ...

    def get_profile(self, user_id: str) -> dict: ...

    def find_by_email(self, email: str) -> dict | None: ...


class Accounts(Protocol):
    """Custodial accounts and their profiles (integrations/accounts.py)."""

    def create_custodial(self, clinic_id: str, email: str | None) -> str: ...

    def update_custodial(self, user_id: str, email: str | None) -> None: ...

    def apply_profile(self, user_id: str, changed: dict, removed: tuple = ()) -> None: ...

    def release_custodial(self, user_id: str) -> None: ...


class Mail(Protocol):
    """The confirmation service's mail (integrations/mail.py): False when there is no recipient
    or the event already produced its mail."""

    def send(self, template: str, recipient: str, variables: dict, *, event_key: str | None = None) -> bool: ...


class RestrictedTokens(Protocol):
    """Short-lived read tokens for one user's data (integrations/restricted_tokens.py)."""

    def create(self, user_id: str) -> dict: ...

    def get(self, token_id: str) -> dict | None: ...


class XealthOrders(Protocol):
    """Xealth's partner API (integrations/xealth.py)."""

    def read_order(self, deployment: str, order_id: str) -> dict: ...


class Clock(Protocol):
    def __call__(self) -> _dt.datetime: ...
