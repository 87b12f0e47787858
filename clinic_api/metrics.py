"""Prometheus metrics (prometheus-client), served at `/metrics`.

With several gunicorn workers every worker writes its samples to PROMETHEUS_MULTIPROC_DIR
(prometheus-client's multiprocess mode, set up by `clinic_api.multiproc` in the gunicorn config)
and a scrape, answered by any worker, adds up all of them. Without that variable (one process:
tests, `uvicorn` alone) the samples live in this process.

The outbox backlog and the store in use are read at scrape time (`ScrapeCollector`); database
commands are timed by store/monitoring.py, calls to other services by integrations/http.py.
"""
from __future__ import annotations

import logging
import os

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, \
    generate_latest
from prometheus_client.core import GaugeMetricFamily

from clinic_api.store import outbox

log = logging.getLogger("clinic_api.metrics")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
OUTBOX_STATUSES = ("written", "sending", "failed")  # every status but `sent` (integrations/mail.py)

REQUESTS = Counter("clinic_http_requests_total", "Requests served, by operationId and status class",
                   ["operation", "status_class"])
LATENCY = Histogram("clinic_http_request_duration_seconds", "Time to serve a request, by operationId",
                    ["operation"])
IN_FLIGHT = Gauge("clinic_http_requests_in_flight", "Requests being served", multiprocess_mode="livesum")
DB_LATENCY = Histogram("clinic_db_command_duration_seconds", "Database command round-trips, by command",
                       ["command"], buckets=(.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
DB_ERRORS = Counter("clinic_db_command_errors_total", "Database commands that failed, by command", ["command"])
OUTBOUND_LATENCY = Histogram("clinic_outbound_request_duration_seconds",
                             "Calls to other services, by service and status class (`error`: no answer)",
                             ["service", "status_class"])
OUTBOUND_ERRORS = Counter("clinic_outbound_errors_total",
                          "Calls to other services that failed (no answer, or a 5xx), by service", ["service"])


def status_class(status: int) -> str:
    return f"{status // 100}xx"


def observe_outbound(service: str, status: int | None, seconds: float) -> None:
    OUTBOUND_LATENCY.labels(service, status_class(status) if status is not None else "error").observe(seconds)
    if status is None or status >= 500:
        OUTBOUND_ERRORS.labels(service).inc()


class ScrapeCollector:
    """What is read from the database when scraped: the outbox backlog and the store in use."""

    def __init__(self, store):
        self.store = store

    def collect(self):
        kind = getattr(self.store, "kind", None) or ("memory" if self.store.embedded else "mongodb")
        info = GaugeMetricFamily("clinic_store_info", "The store in use (1 for the one in use)", labels=["store"])
        info.add_metric([kind], 1)
        yield info
        try:
            counts = {status: 0 for status in OUTBOX_STATUSES}
            counts.update(outbox.backlog(self.store.db, max_time_ms=None if self.store.embedded else 5000))
        except Exception as exc:  # noqa: BLE001 - a scrape must not fail on the database
            log.warning("outbox backlog not read: %s", type(exc).__name__)
            return
        backlog = GaugeMetricFamily("clinic_mail_outbox_backlog",
                                    "Messages in the outbox not sent, by status (`written`: outbox-only "
                                    "delivery, no SMTP_HOST)", labels=["status"])
        for status, n in sorted(counts.items()):
            backlog.add_metric([status], n)
        yield backlog


class _Forward:
    def __init__(self, registry):
        self.registry = registry

    def collect(self):
        return self.registry.collect()


def render(store) -> tuple[bytes, str]:
    """The exposition text of this process (or of every worker, in multiprocess mode)."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Forward(REGISTRY))
    registry.register(ScrapeCollector(store))
    return generate_latest(registry), CONTENT_TYPE_LATEST
