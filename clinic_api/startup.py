"""Settings checked once, in the process that starts the service, before any worker: every problem
on one line naming the variable, all of them at once, exit status 2, no traceback."""
from __future__ import annotations

import logging

from clinic_api.settings import Settings, SettingsError

EXIT_CONFIG = 2
log = logging.getLogger("clinic_api.config")


def problems(env=None) -> tuple[Settings | None, list[str]]:
    """The settings and what makes them unfit to serve with (parse errors, then cross-checks)."""
    try:
        settings = Settings.from_env(env)
    except SettingsError as exc:
        return None, exc.problems
    return settings, settings.start_problems()


def settings_or_exit(env=None) -> Settings:
    """The settings to serve with, or every problem logged (one line each) and exit 2."""
    settings, found = problems(env)
    if found or settings is None:
        for line in found:
            log.error(line)
        raise SystemExit(EXIT_CONFIG)
    return settings
