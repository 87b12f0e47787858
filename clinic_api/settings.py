"""Every setting, read once from the environment and validated at start."""
from __future__ import annotations

import dataclasses
import ipaddress
import os
import re

_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}
DEFAULT_TOKEN_SECRET = "clinic-api-development-secret-change-me"
XEALTH_TOKEN_URL = "https://auth-sandbox.xealth.io/oauth2/token"
XEALTH_SERVER_BASE_URL = "https://api-sandbox.xealth.io/v2"
XEALTH_REQUIRED = ("TIDEPOOL_XEALTH_BEARER_TOKEN", "TIDEPOOL_XEALTH_CLIENT_ID", "TIDEPOOL_XEALTH_CLIENT_SECRET",
                   "TIDEPOOL_APPLICATION_URL")


STORES = ("local", "memory", "mongodb")
LOG_LEVELS = ("debug", "info", "warn", "warning", "error", "dpanic", "panic", "fatal")
# A request body may be as large as the largest document MongoDB stores (16 MiB): Redox messages,
# the largest real payloads, are stored whole as one document, so nothing larger could be kept.
MAX_BODY_BYTES = 16 * 1024 * 1024
# The request line and headers together (Go's server allows 1 MiB; real requests carry a token
# of ~1 KiB and URLs of a few KiB).
MAX_HEADER_BYTES = 64 * 1024
MIN_SECRET_LENGTH = 32
SECRETS = {"token_secret", "server_token", "smtp_password", "xealth_bearer_token", "xealth_client_secret",
           "auth_server_secret", "service_secret", "redox_verification_token"}


class SettingsError(ValueError):
    """One or more settings are wrong: `problems` holds one line each, naming the variable."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class _Reader:
    """Reads variables, collecting every problem instead of stopping at the first."""

    def __init__(self, env):
        self.env = env
        self.problems: list[str] = []

    def text(self, name: str, default: str = "") -> str:
        # As the reference: a variable set to the empty string overrides the default.
        return self.env[name] if name in self.env else default

    def flag(self, name: str, default: bool) -> bool:
        """Go's strconv.ParseBool, as the reference reads its booleans: anything else is an error."""
        if name not in self.env:
            return default
        value = self.env[name]
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        self.problems.append(f"{name}: invalid boolean {value!r} (accepted: {', '.join(sorted(_TRUE | _FALSE))})")
        return default

    def integer(self, name: str, default: int, *, low: int, high: int) -> int:
        raw = self.env.get(name, "") or str(default)
        try:
            value = int(raw)
        except ValueError:
            self.problems.append(f"{name}: {raw!r} is not an integer (accepted: {low}..{high})")
            return default
        if not low <= value <= high:
            self.problems.append(f"{name}: {value} is out of range (accepted: {low}..{high})")
            return default
        return value

    def choice(self, name: str, default: str, choices: tuple[str, ...], *, lower: bool = False) -> str:
        value = self.text(name, default) or default
        value = value.lower() if lower else value
        if value not in choices:
            self.problems.append(f"{name}: {value!r} is not one of {', '.join(choices)}")
            return default
        return value


def _bool(env, name: str, default: bool) -> bool:
    reader = _Reader(env)
    value = reader.flag(name, default)
    if reader.problems:
        raise SettingsError(reader.problems)
    return value


@dataclasses.dataclass(frozen=True)
class Settings:
    port: int = 8080
    host: str = "127.0.0.1"
    workers: int = 1
    database_name: str = "clinic"
    mongodb_uri: str = ""
    store: str = "local"  # local (a SecantusDB server we start) | memory (in-process) | mongodb
    data_dir: str = "data"
    allow_no_transactions: bool = False
    db_timeout_ms: int = 15_000  # every database operation (PyMongo timeoutMS)
    db_select_timeout_ms: int = 3_000  # finding the server (serverSelectionTimeoutMS)
    http_timeout_s: int = 10  # calls to other services: connect and read
    max_body_bytes: int = MAX_BODY_BYTES
    max_header_bytes: int = MAX_HEADER_BYTES
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
        """Every variable read and checked; all problems reported at once (SettingsError)."""
        env = os.environ if env is None else env
        r = _Reader(env)
        mongodb_uri = ""
        try:
            mongodb_uri = mongo_uri_from_env(env)
        except SettingsError as exc:
            r.problems += exc.problems
        store = r.choice("CLINIC_STORE", "mongodb" if mongodb_uri else "local", STORES)
        if store == "mongodb" and not mongodb_uri:
            r.problems.append("CLINIC_STORE: mongodb needs MONGODB_URI (or the TIDEPOOL_STORE_* variables)")
        secret = r.text("CLINIC_TOKEN_SECRET", DEFAULT_TOKEN_SECRET)
        if not secret:
            r.problems.append("CLINIC_TOKEN_SECRET: must not be empty")
        level = r.choice("LOG_LEVEL", "info", LOG_LEVELS, lower=True)
        values = dict(
            port=r.integer("PORT", 8080, low=1, high=65535),
            host=r.text("HOST", "127.0.0.1") or "127.0.0.1",
            workers=r.integer("WEB_CONCURRENCY", 2 if store == "mongodb" else 1, low=1, high=64),
            database_name=r.text("TIDEPOOL_CLINIC_DATABASE_NAME", "clinic"),
            mongodb_uri=mongodb_uri if store == "mongodb" else "",
            store=store,
            data_dir=r.text("CLINIC_DATA_DIR", "data") or "data",
            allow_no_transactions=r.flag("CLINIC_ALLOW_NO_TRANSACTIONS", False),
            db_timeout_ms=r.integer("CLINIC_DB_TIMEOUT_MS", 15_000, low=100, high=600_000),
            db_select_timeout_ms=r.integer("CLINIC_DB_SERVER_SELECTION_TIMEOUT_MS", 3_000, low=100, high=120_000),
            http_timeout_s=r.integer("CLINIC_HTTP_TIMEOUT_SECONDS", 10, low=1, high=300),
            max_body_bytes=r.integer("CLINIC_MAX_BODY_BYTES", MAX_BODY_BYTES, low=1024, high=1 << 30),
            max_header_bytes=r.integer("CLINIC_MAX_HEADER_BYTES", MAX_HEADER_BYTES, low=1024, high=1 << 24),
            token_secret=secret or DEFAULT_TOKEN_SECRET,
            integrations=r.choice("CLINIC_INTEGRATIONS", "standalone", ("standalone", "tidepool")),
            effects=r.choice("CLINIC_EFFECTS", "inline", ("inline", "external")),
            validate_responses=r.flag("CLINIC_VALIDATE_RESPONSES", False),
            docs=r.flag("CLINIC_DOCS", True),
            log_level=level,
            demo_patient_user_id=r.text("CLINIC_DEMO_PATIENT_USER_ID", ""),
            shoreline_address=r.text("TIDEPOOL_SHORELINE_CLIENT_ADDRESS", "http://shoreline:9107"),
            seagull_address=r.text("TIDEPOOL_SEAGULL_CLIENT_ADDRESS", "http://seagull:9120"),
            auth_address=r.text("TIDEPOOL_AUTH_CLIENT_ADDRESS", ""),
            server_token=r.text("TIDEPOOL_SERVER_TOKEN", ""),
            smtp_host=r.text("SMTP_HOST", ""),
            smtp_port=r.integer("SMTP_PORT", 25, low=1, high=65535),
            smtp_from=r.text("SMTP_FROM", "Tidepool <noreply@tidepool.org>"),
            smtp_username=r.text("SMTP_USERNAME", ""),
            smtp_password=r.text("SMTP_PASSWORD", ""),
            smtp_starttls=r.flag("SMTP_STARTTLS", False),
            web_url=r.text("HYDROPHONE_WEB_URL", "http://localhost:3000"),
            service_token_endpoint=r.text("TIDEPOOL_AUTH_SERVICE_TOKEN_ENDPOINT", ""),
            redox_verification_token=r.text("TIDEPOOL_REDOX_VERIFICATION_TOKEN", ""),
            auth_external_address=r.text("TIDEPOOL_AUTH_CLIENT_EXTERNAL_ADDRESS", ""),
            auth_server_secret=r.text("TIDEPOOL_AUTH_CLIENT_EXTERNAL_SERVER_SESSION_TOKEN_SECRET", ""),
            service_secret=r.text("TIDEPOOL_SERVICE_SECRET", ""),
            **_xealth_from_env(r),
        )
        if r.problems:
            raise SettingsError(r.problems)
        return cls(**values)

    @property
    def embedded_store(self) -> bool:
        """The in-process store (CLINIC_STORE=memory): its data live in one process only."""
        return self.store == "memory"

    @property
    def loopback(self) -> bool:
        """Whether the service listens on this machine only."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host.strip("[]")).is_loopback
        except ValueError:
            return False

    def start_problems(self) -> list[str]:
        """What makes these settings unfit to serve with (checked once, before any worker starts;
        the app factory itself accepts them, as the tests do)."""
        problems = []
        if self.integrations == "tidepool":
            if not self.server_token:
                problems.append("TIDEPOOL_SERVER_TOKEN: required with CLINIC_INTEGRATIONS=tidepool (this service's "
                                "server login at shoreline)")
            if self.store == "memory":
                problems.append("CLINIC_STORE: memory cannot be used with CLINIC_INTEGRATIONS=tidepool (Tidepool's "
                                "services share the clinic database: use mongodb)")
        if self.store == "memory" and self.workers > 1:
            problems.append(f"WEB_CONCURRENCY: {self.workers} workers cannot share CLINIC_STORE=memory (each would "
                            "have its own data): use 1, or the local or mongodb store")
        if self.integrations == "standalone":
            if self.token_secret == DEFAULT_TOKEN_SECRET and not self.loopback:
                problems.append(f"CLINIC_TOKEN_SECRET: the development secret is public; it is accepted only when "
                                f"HOST is a loopback address (HOST={self.host}): set a secret of at least "
                                f"{MIN_SECRET_LENGTH} characters")
            elif self.token_secret != DEFAULT_TOKEN_SECRET and len(self.token_secret) < MIN_SECRET_LENGTH:
                problems.append(f"CLINIC_TOKEN_SECRET: at least {MIN_SECRET_LENGTH} characters (HS256 key)")
        return problems

    def masked(self) -> dict:
        """The effective configuration, secrets hidden (for `clinic-api check-config`)."""
        out = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name in SECRETS and value:
                value = "***"
            elif field.name == "mongodb_uri" and value:
                value = re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", value)
            out[field.name] = value
        return out


def _xealth_from_env(r: _Reader) -> dict:
    """As the reference: the Xealth variables are read only when TIDEPOOL_XEALTH_ENABLED is true,
    and then the bearer token, client id/secret and application URL must be set (empty is set)."""
    if not r.flag("TIDEPOOL_XEALTH_ENABLED", False):
        return {}
    missing = [name for name in XEALTH_REQUIRED if name not in r.env]
    r.problems += [f"required key {name} missing value" for name in missing]
    if missing:
        return {}
    return {"xealth_enabled": True,
            "xealth_bearer_token": r.env["TIDEPOOL_XEALTH_BEARER_TOKEN"],
            "xealth_client_id": r.env["TIDEPOOL_XEALTH_CLIENT_ID"],
            "xealth_client_secret": r.env["TIDEPOOL_XEALTH_CLIENT_SECRET"],
            "xealth_token_url": r.text("TIDEPOOL_XEALTH_TOKEN_URL", XEALTH_TOKEN_URL),
            "xealth_server_base_url": r.text("TIDEPOOL_XEALTH_SERVER_BASE_URL", XEALTH_SERVER_BASE_URL),
            "application_url": r.env["TIDEPOOL_APPLICATION_URL"]}


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
