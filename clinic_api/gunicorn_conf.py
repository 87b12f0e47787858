"""gunicorn settings: the uvicorn worker serving clinic_api.asgi:app on $HOST:$PORT.

Part of the package, so an installed wheel (and the container) start from any directory:
    gunicorn -c python:clinic_api.gunicorn_conf clinic_api.asgi:app
which is what `clinic-api serve` and `make run` run."""
import logging
import os
import signal

from clinic_api import logging_setup, multiproc, startup
from clinic_api.store import client as store_client
from clinic_api.store import local_server

# Settings checked once, here in the master, before any worker: every problem one JSON log line
# naming its variable, then exit status 2 (clinic_api/startup.py).
logging_setup.configure(os.environ.get("LOG_LEVEL"))
_settings = startup.settings_or_exit()
_local: local_server.Supervisor | None = None

bind = f"{_settings.host}:{_settings.port}"
worker_class = "uvicorn.workers.UvicornWorker"
# WEB_CONCURRENCY; 1 for the memory and local stores by default (the memory store refuses more).
workers = _settings.workers
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 15
keepalive = 5
# The reference (Go net/http) accepts long query strings and headers; gunicorn's defaults are far smaller.
limit_request_line = 0
limit_request_field_size = 0
# No control socket (gunicornc is not used): it would be written under $HOME, one path shared by
# every gunicorn of the user.
control_socket_disable = True
# Logs: every line one JSON object (clinic_api/logging_setup.py), gunicorn's and uvicorn's included;
# the access log is the service's own (clinic_api/observe.py, no query strings): gunicorn's is off.
logger_class = "clinic_api.logging_setup.GunicornLogger"
accesslog = None
# Metrics of all workers in every scrape: each writes to PROMETHEUS_MULTIPROC_DIR (created and emptied
# here, before any worker; a temporary directory when unset); see clinic_api/multiproc.py.
multiproc.prepare()
child_exit = multiproc.child_exit


# The local default store: one SecantusDB server for all workers, started by the master before they
# fork (they inherit its address), watched, and stopped after the workers when the service stops.
# It dies with the master even when the master is killed (local_server sets PR_SET_PDEATHSIG).
_log = logging.getLogger("clinic_api.store")


def _announce() -> None:
    """The service's first log line: which store, and where its data live."""
    logging_setup.configure(_settings.log_level)
    if _settings.store == "local":
        _log.info("store: local (SecantusDB), data in %s", os.path.abspath(_settings.data_dir))
    elif _settings.store == "memory":
        _log.warning("store: memory (data live in process memory only and are lost at exit)")
    else:
        _log.info("store: MongoDB at %s, database %r", store_client.mask(_settings.mongodb_uri),
                  _settings.database_name)


_announce()


def on_starting(server):
    global _local
    if _settings.store == "local" and not os.environ.get(local_server.URI_ENV):
        _local = local_server.Supervisor(_settings.data_dir, give_up=lambda: os.kill(os.getpid(), signal.SIGTERM))
        try:
            uri = _local.start()
        except local_server.LocalServerError as exc:
            _log.error("CLINIC_STORE: %s", exc)
            raise SystemExit(startup.EXIT_CONFIG) from exc
        _log.info("store: the local database server answers at %s", uri)
    try:
        store_client.preflight(_settings)
    except store_client.StoreError as exc:
        _log.error("%s: %s", "MONGODB_URI" if _settings.store == "mongodb" else "CLINIC_STORE", exc)
        on_exit(server)
        raise SystemExit(startup.EXIT_CONFIG) from exc


def on_exit(server):
    if _local is not None:
        _local.stop()


def worker_exit(server, worker):
    """A worker stops after draining its requests: close its database client."""
    from clinic_api import app as app_module, asgi

    app_module.shutdown(asgi.app)
