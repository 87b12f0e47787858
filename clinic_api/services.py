"""Everything a request may use, built once per process from the settings."""
from __future__ import annotations

import dataclasses

from clinic_api.auth.tokens import ShorelineTokens, StandaloneTokens
from clinic_api.domain import notifications
from clinic_api.integrations import accounts as accounts_mod
from clinic_api.integrations import mail as mail_mod
from clinic_api.integrations import users as users_mod
from clinic_api.integrations.tidepool import ServerSession
from clinic_api.settings import Settings
from clinic_api.store import client as store_client
from clinic_api.store import clinicians as clinicians_store


@dataclasses.dataclass
class Services:
    settings: Settings
    store: store_client.Store
    tokens: object
    users: object
    session: ServerSession | None = None
    memberships: object = clinicians_store.find_membership
    extra: dict = dataclasses.field(default_factory=dict)
    mail: object = None
    accounts: object = None  # custodial accounts and profiles (integrations/accounts.py)


def build(settings: Settings, store=None, transport=None) -> Services:
    store = store or store_client.connect(settings)
    if settings.integrations == "tidepool":
        session = ServerSession(settings, transport=transport)
        tokens = ShorelineTokens(session)
        tokens.blocking = True
        users = users_mod.TidepoolUsers(session)
    else:
        session = None
        tokens = StandaloneTokens(settings.token_secret)
        users = users_mod.StandaloneUsers(store)
    return Services(settings=settings, store=store, tokens=tokens, users=users, session=session,
                    mail=mail_mod.build(settings, store),
                    accounts=accounts_mod.build(settings, store, session),
                    extra={"after_clinic_created": notifications.after_clinic_created})
