"""prometheus-client's multiprocess mode under gunicorn (used by the gunicorn config).

`prepare()` runs in gunicorn's master before any worker starts: the directory named by
PROMETHEUS_MULTIPROC_DIR (a new temporary one when the variable is unset) is created and emptied of
a previous run's samples, and the variable is inherited by every worker, whose metrics then write
there. `child_exit` tells prometheus-client a worker is gone (its live gauges stop counting).
prometheus_client itself is imported only after the variable is set.
"""
from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile

ENV = "PROMETHEUS_MULTIPROC_DIR"
_PREPARED = "CLINIC_METRICS_PREPARED_BY"


def prepare() -> str:
    path = os.environ.get(ENV)
    if os.environ.get(_PREPARED) == str(os.getpid()) and path:
        return path  # configuration reloaded: keep the samples of this run
    if "prometheus_client" in sys.modules:
        # Its metrics would be single-process ones, in every worker forked from here.
        raise RuntimeError(f"prometheus_client was imported before {ENV} was set up: "
                           "call clinic_api.multiproc.prepare() earlier in the gunicorn config")
    if not path:
        path = tempfile.mkdtemp(prefix="clinic-api-metrics-")
        os.environ[ENV] = path
        master = os.getpid()

        def _remove() -> None:
            if os.getpid() == master:
                shutil.rmtree(path, ignore_errors=True)

        atexit.register(_remove)
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.remove(os.path.join(path, name))
    os.environ[_PREPARED] = str(os.getpid())
    return path


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
