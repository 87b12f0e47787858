"""Everything a request may use, built once per process from the settings (`build`), and passed
down explicitly: handlers get it from `context.services()`, the domain takes it as its first
argument. Each integration is typed by its Protocol (integrations/protocols.py)."""
from __future__ import annotations

import dataclasses
from typing import Callable

import httpx

from clinic_api import wire
from clinic_api.auth.tokens import ShorelineTokens, StandaloneTokens
from clinic_api.integrations import accounts as accounts_mod
from clinic_api.integrations import mail as mail_mod
from clinic_api.integrations import restricted_tokens as restricted_tokens_mod
from clinic_api.integrations import users as users_mod
from clinic_api.integrations import xealth as xealth_mod
from clinic_api.integrations.protocols import (Accounts, Clock, Mail, RestrictedTokens, TokenVerifier, Users,
                                               XealthOrders)
from clinic_api.integrations.tidepool import ServerSession
from clinic_api.settings import Settings
from clinic_api.store import client as store_client
from clinic_api.store import clinicians as clinicians_store

# (db, clinicId, userId) -> the caller's clinician record, for authorization (auth/middleware.py).
MembershipLookup = Callable[..., "dict | None"]


@dataclasses.dataclass
class _Clients:
    """Clients built on first use for the settings in force (tests swap settings per test)."""
    restricted_tokens: tuple[Settings, RestrictedTokens] | None = None
    xealth: tuple[Settings, XealthOrders] | None = None


@dataclasses.dataclass
class Services:
    settings: Settings
    store: store_client.Store
    tokens: TokenVerifier
    users: Users
    mail: Mail
    accounts: Accounts
    session: ServerSession | None = None
    memberships: MembershipLookup = clinicians_store.find_membership
    clock: Clock = wire.now
    transport: httpx.BaseTransport | None = None  # the HTTP transport of per-settings clients (tests)
    _clients: _Clients = dataclasses.field(default_factory=_Clients, repr=False, compare=False)

    def restricted_tokens(self) -> RestrictedTokens:
        cached = self._clients.restricted_tokens
        if cached is not None and cached[0] is self.settings:
            return cached[1]
        client: RestrictedTokens
        if self.settings.integrations == "tidepool":
            client = restricted_tokens_mod.TidepoolRestrictedTokens(self.settings, transport=self.transport)
        else:
            client = restricted_tokens_mod.StandaloneRestrictedTokens(self.store, clock=lambda: self.clock())
        self._clients.restricted_tokens = (self.settings, client)
        return client

    def xealth(self) -> XealthOrders:
        cached = self._clients.xealth
        if cached is not None and cached[0] is self.settings:
            return cached[1]
        client = xealth_mod.XealthClient(self.settings, transport=self.transport)
        self._clients.xealth = (self.settings, client)
        return client


def build(settings: Settings, store: store_client.Store | None = None,
          transport: httpx.BaseTransport | None = None) -> Services:
    store = store or store_client.connect(settings)
    session: ServerSession | None
    tokens: TokenVerifier
    users: Users
    if settings.integrations == "tidepool":
        session = ServerSession(settings, transport=transport)
        tokens = ShorelineTokens(session)
        users = users_mod.TidepoolUsers(session)
    else:
        session = None
        tokens = StandaloneTokens(settings.token_secret)
        users = users_mod.StandaloneUsers(store)
    return Services(settings=settings, store=store, tokens=tokens, users=users, session=session,
                    mail=mail_mod.build(settings, store),
                    accounts=accounts_mod.build(settings, store, session), transport=transport)
