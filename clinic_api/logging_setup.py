"""One logging configuration for gunicorn, uvicorn and the service: every line is one JSON object.

`configure()` installs a single JSON handler (python-json-logger) on the root logger and routes
gunicorn's and uvicorn's loggers into it; their access logs are switched off (ours is
`clinic_api.access`, written by `observe.Observe`). Each line carries `time`, `level`, `logger`,
`msg`, `pid` (which gunicorn worker), the `request_id` of the request being served (when there is
one) and any `extra` fields; an exception's trace is the `stack` field. The level is LOG_LEVEL with the reference's
names
(debug, info, warn, error; dpanic/panic/fatal mean critical).

gunicorn: `logger_class = "clinic_api.logging_setup.GunicornLogger"` (gunicorn's own messages);
the worker's app module (asgi.py) calls `configure()` again, which is idempotent.
"""
from __future__ import annotations

import logging
import os
import sys

from gunicorn import glogging
from pythonjsonlogger.json import JsonFormatter

from clinic_api import request_id

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING, "warning": logging.WARNING,
          "error": logging.ERROR, "dpanic": logging.CRITICAL, "panic": logging.CRITICAL, "fatal": logging.CRITICAL}
_NAMES = {logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warn", logging.ERROR: "error",
          logging.CRITICAL: "fatal"}
# Loggers of the servers that write through our handler, and the access logs we replace with ours.
ROUTED = ("gunicorn", "gunicorn.error", "uvicorn", "uvicorn.error", "uvicorn.asgi")
SILENCED = ("gunicorn.access", "uvicorn.access")
# httpx and httpcore print every URL they call at INFO/DEBUG (a token check's URL holds the token):
# outbound calls are logged by integrations/http.py instead, without the URL.
QUIET = ("httpx", "httpcore", "connexion.operations.openapi3")
# connexion logs at ERROR every query parameter and body key a client sends beyond the contract,
# which we accept by design (strict validation off, DESIGN §5): normal traffic, not an error.
MUTED = ("connexion.decorators.parameter",)
_MARK = "_clinic_api_json"


def level_from(value: str | None) -> int:
    return LEVELS.get((value or "info").strip().lower(), logging.INFO)


class JsonLines(JsonFormatter):
    """python-json-logger's formatter with our field names, a lower-case level and no ANSI colours."""

    def __init__(self):
        super().__init__("%(levelname)s %(name)s %(message)s %(process)d", timestamp="time",
                         rename_fields={"levelname": "level", "name": "logger", "message": "msg", "process": "pid"},
                         json_ensure_ascii=False)

    def process_log_record(self, log_data):
        level = log_data.get("level")
        if isinstance(level, str):
            log_data["level"] = _NAMES.get(logging.getLevelName(level), level.lower())
        if "exc_info" in log_data:
            log_data["stack"] = log_data.pop("exc_info")
        log_data.pop("color_message", None)  # uvicorn's coloured copy of the message
        return {"time": log_data.pop("time", None), **log_data}


class RequestIdFilter(logging.Filter):
    """Adds the current request's id to every record that passes the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        rid = request_id.current()
        if rid is not None and not hasattr(record, "request_id"):
            record.request_id = rid
        return True


def handler(stream=None) -> logging.Handler:
    out = logging.StreamHandler(stream or sys.stderr)
    out.setFormatter(JsonLines())
    out.addFilter(RequestIdFilter())
    setattr(out, _MARK, True)
    return out


def configure(level: str | int | None = None, stream=None) -> logging.Handler:
    """(Re)configure logging of this process; idempotent. `level`: a LOG_LEVEL name or a number
    (default: $LOG_LEVEL). `stream`: where lines go (default: stderr). Returns the handler."""
    if level is None or isinstance(level, str):
        level = level_from(level if level is not None else os.environ.get("LOG_LEVEL"))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(old)
    out = handler(stream)
    root.addHandler(out)
    root.setLevel(level)
    for name in ROUTED:
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
        logger.disabled = False
    for name in SILENCED:
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = False
        logger.disabled = True
    for name in QUIET:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    for name in MUTED:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    logging.captureWarnings(True)
    return out


class GunicornLogger(glogging.Logger):
    """gunicorn's logger, writing through `configure()`'s JSON handler. gunicorn's own access log
    is off (the uvicorn worker never writes it; ours is the service's middleware)."""

    def setup(self, cfg):
        self.cfg = cfg
        self._access_log_enabled = False
        self.loglevel = level_from(os.environ.get("LOG_LEVEL") or cfg.loglevel)
        configure(self.loglevel)
        # UvicornWorker copies gunicorn.error's handlers and level to uvicorn.error (and stops its
        # propagation): give it ours, so uvicorn's lines are JSON before the app reconfigures.
        root_handlers = [h for h in logging.getLogger().handlers if getattr(h, _MARK, False)]
        self.error_log.handlers = list(root_handlers)
        self.error_log.propagate = False
        self.error_log.setLevel(self.loglevel)
        self.access_log.handlers = []
        self.access_log.disabled = True

    def access(self, resp, req, environ, request_time):
        return None

    def reopen_files(self):
        return None

    def close_on_exec(self):
        return None
