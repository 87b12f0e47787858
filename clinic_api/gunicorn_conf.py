"""gunicorn settings: the uvicorn worker serving clinic_api.asgi:app on $HOST:$PORT.

Part of the package, so an installed wheel (and the container) start from any directory:
    gunicorn -c python:clinic_api.gunicorn_conf clinic_api.asgi:app
which is what `clinic-api serve` and `make run` run."""
import os

from clinic_api.settings import Settings

_settings = Settings.from_env()

bind = f"{_settings.host}:{_settings.port}"
worker_class = "uvicorn.workers.UvicornWorker"
# The in-memory store lives in process memory: more than one worker would give each its own data.
workers = int(os.environ.get("WEB_CONCURRENCY") or ("2" if _settings.store == "mongodb" else "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 15
keepalive = 5
# The reference (Go net/http) accepts long query strings and headers; gunicorn's defaults are far smaller.
limit_request_line = 0
limit_request_field_size = 0
# No control socket (gunicornc is not used): it would be written under $HOME, one path shared by
# every gunicorn of the user.
control_socket_disable = True
accesslog = "-"
access_log_format = '{"remote_ip":"%(h)s","request":"%(r)s","status":%(s)s,"size":%(b)s,"latency_us":%(D)s,"user_agent":"%(a)s"}'
