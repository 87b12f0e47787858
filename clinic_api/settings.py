"""Every setting, read once from the environment and validated at start."""
from __future__ import annotations

import dataclasses
import os

_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}
DEFAULT_TOKEN_SECRET = "clinic-api-development-secret-change-me"
XEALTH_TOKEN_URL = "https://auth-sandbox.xealth.io/oauth2/token"
XEALTH_SERVER_BASE_URL = "https://api-sandbox.xealth.io/v2"
XEALTH_REQUIRED = ("TIDEPOOL_XEALTH_BEARER_TOKEN", "TIDEPOOL_XEALTH_CLIENT_ID", "TIDEPOOL_XEALTH_CLIENT_SECRET",
                   "TIDEPOOL_APPLICATION_URL")


STORES = ("local", "memory", "mongodb")


class SettingsError(ValueError):
    pass


def _bool(env, name: str, default: bool) -> bool:
    """Go's strconv.ParseBool, as the reference reads its booleans: anything else is an error."""
    if name not in env:
        return default
    value = env[name]
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name}: invalid boolean {value!r}")


def _str(env, name: str, default: str = "") -> str:
    # As the reference: a variable set to the empty string overrides the default.
    return env[name] if name in env else default


@dataclasses.dataclass(frozen=True)
class Settings:
    port: int = 8080
    host: str = "127.0.0.1"
    database_name: str = "clinic"
    mongodb_uri: str = ""
    store: str = "local"  # local (a SecantusDB server we start) | memory (in-process) | mongodb
    data_dir: str = "data"
    allow_no_transactions: bool = False
    token_secret: str = DEFAULT_TOKEN_SECRET
    integrations: str = "standalone"  # standalone | tidepool
    effects: str = "inline"  # inline | external
    validate_responses: bool = False
    docs: bool = True  # CLINIC_DOCS: Swagger UI at /docs, the contract at /openapi.json and /openapi.yaml
    log_level: str = "info"
    demo_patient_user_id: str = ""
    shoreline_address: str = "http://shoreline:9107"
    seagull_address: str = "http://seagull:9120"
    auth_address: str = ""
    server_token: str = ""
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "Tidepool <noreply@tidepool.org>"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    web_url: str = "http://localhost:3000"
    service_token_endpoint: str = ""
    # EHR integrations (Redox, Xealth) and the platform auth service's restricted tokens
    redox_verification_token: str = ""
    xealth_enabled: bool = False
    xealth_bearer_token: str = ""
    xealth_client_id: str = ""
    xealth_client_secret: str = ""
    xealth_token_url: str = XEALTH_TOKEN_URL
    xealth_server_base_url: str = XEALTH_SERVER_BASE_URL
    application_url: str = ""
    auth_external_address: str = ""
    auth_server_secret: str = ""
    service_secret: str = ""

    @classmethod
    def from_env(cls, env=None) -> "Settings":
        env = os.environ if env is None else env
        try:
            port = int(_str(env, "PORT", "8080") or "8080")
        except ValueError as exc:
            raise SettingsError("PORT must be an integer") from exc
        integrations = _str(env, "CLINIC_INTEGRATIONS", "standalone") or "standalone"
        if integrations not in ("standalone", "tidepool"):
            raise SettingsError("CLINIC_INTEGRATIONS must be standalone or tidepool")
        effects = _str(env, "CLINIC_EFFECTS", "inline") or "inline"
        if effects not in ("inline", "external"):
            raise SettingsError("CLINIC_EFFECTS must be inline or external")
        level = _str(env, "LOG_LEVEL", "info").lower() or "info"
        if level not in ("debug", "info", "warn", "warning", "error", "dpanic", "panic", "fatal"):
            raise SettingsError(f"LOG_LEVEL: unrecognized level {level!r}")
        mongodb_uri = mongo_uri_from_env(env)
        store = _str(env, "CLINIC_STORE", "") or ("mongodb" if mongodb_uri else "local")
        if store not in STORES:
            raise SettingsError(f"CLINIC_STORE must be one of {', '.join(STORES)} (got {store!r})")
        if store == "mongodb" and not mongodb_uri:
            raise SettingsError("CLINIC_STORE=mongodb needs MONGODB_URI (or the TIDEPOOL_STORE_* variables)")
        if store != "mongodb":
            mongodb_uri = ""
        secret = _str(env, "CLINIC_TOKEN_SECRET", DEFAULT_TOKEN_SECRET)
        if not secret:
            raise SettingsError("CLINIC_TOKEN_SECRET must not be empty")
        return cls(
            port=port,
            host=_str(env, "HOST", "127.0.0.1") or "127.0.0.1",
            database_name=_str(env, "TIDEPOOL_CLINIC_DATABASE_NAME", "clinic"),
            mongodb_uri=mongodb_uri,
            store=store,
            data_dir=_str(env, "CLINIC_DATA_DIR", "data") or "data",
            allow_no_transactions=_bool(env, "CLINIC_ALLOW_NO_TRANSACTIONS", False),
            token_secret=secret,
            integrations=integrations,
            effects=effects,
            validate_responses=_bool(env, "CLINIC_VALIDATE_RESPONSES", False),
            docs=_bool(env, "CLINIC_DOCS", True),
            log_level=level,
            demo_patient_user_id=_str(env, "CLINIC_DEMO_PATIENT_USER_ID", ""),
            shoreline_address=_str(env, "TIDEPOOL_SHORELINE_CLIENT_ADDRESS", "http://shoreline:9107"),
            seagull_address=_str(env, "TIDEPOOL_SEAGULL_CLIENT_ADDRESS", "http://seagull:9120"),
            auth_address=_str(env, "TIDEPOOL_AUTH_CLIENT_ADDRESS", ""),
            server_token=_str(env, "TIDEPOOL_SERVER_TOKEN", ""),
            smtp_host=_str(env, "SMTP_HOST", ""),
            smtp_port=int(_str(env, "SMTP_PORT", "25") or "25"),
            smtp_from=_str(env, "SMTP_FROM", "Tidepool <noreply@tidepool.org>"),
            smtp_username=_str(env, "SMTP_USERNAME", ""),
            smtp_password=_str(env, "SMTP_PASSWORD", ""),
            smtp_starttls=_bool(env, "SMTP_STARTTLS", False),
            web_url=_str(env, "HYDROPHONE_WEB_URL", "http://localhost:3000"),
            service_token_endpoint=_str(env, "TIDEPOOL_AUTH_SERVICE_TOKEN_ENDPOINT", ""),
            redox_verification_token=_str(env, "TIDEPOOL_REDOX_VERIFICATION_TOKEN", ""),
            auth_external_address=_str(env, "TIDEPOOL_AUTH_CLIENT_EXTERNAL_ADDRESS", ""),
            auth_server_secret=_str(env, "TIDEPOOL_AUTH_CLIENT_EXTERNAL_SERVER_SESSION_TOKEN_SECRET", ""),
            service_secret=_str(env, "TIDEPOOL_SERVICE_SECRET", ""),
            **_xealth_from_env(env),
        )

    @property
    def embedded_store(self) -> bool:
        """The in-process store (CLINIC_STORE=memory): its data live in one process only."""
        return self.store == "memory"


def _xealth_from_env(env) -> dict:
    """As the reference: the Xealth variables are read only when TIDEPOOL_XEALTH_ENABLED is true,
    and then the bearer token, client id/secret and application URL must be set (empty is set)."""
    if not _bool(env, "TIDEPOOL_XEALTH_ENABLED", False):
        return {}
    missing = [name for name in XEALTH_REQUIRED if name not in env]
    if missing:
        raise SettingsError(f"required key {missing[0]} missing value")
    return {"xealth_enabled": True,
            "xealth_bearer_token": env["TIDEPOOL_XEALTH_BEARER_TOKEN"],
            "xealth_client_id": env["TIDEPOOL_XEALTH_CLIENT_ID"],
            "xealth_client_secret": env["TIDEPOOL_XEALTH_CLIENT_SECRET"],
            "xealth_token_url": _str(env, "TIDEPOOL_XEALTH_TOKEN_URL", XEALTH_TOKEN_URL),
            "xealth_server_base_url": _str(env, "TIDEPOOL_XEALTH_SERVER_BASE_URL", XEALTH_SERVER_BASE_URL),
            "application_url": env["TIDEPOOL_APPLICATION_URL"]}


def mongo_uri_from_env(env) -> str:
    """MONGODB_URI, else the reference's TIDEPOOL_STORE_* variables (built exactly as it does),
    else "" for the embedded in-memory store."""
    if env.get("MONGODB_URI"):
        return env["MONGODB_URI"]
    if not any(name.startswith("TIDEPOOL_STORE_") for name in env):
        return ""
    scheme = env.get("TIDEPOOL_STORE_SCHEME") or "mongodb"
    uri = scheme + "://"
    user = env.get("TIDEPOOL_STORE_USERNAME", "")
    if user:
        password = env.get("TIDEPOOL_STORE_PASSWORD", "")
        uri += user + (":" + password if password else "") + "@"
    uri += (env.get("TIDEPOOL_STORE_ADDRESSES") or "localhost") + "/"
    uri += "?ssl=true" if _bool(env, "TIDEPOOL_STORE_TLS", False) else "?ssl=false"
    params = env.get("TIDEPOOL_STORE_OPT_PARAMS", "")
    if params:
        uri += "&" + params
    return uri
