"""PyMongo command monitoring: every database command's latency, and its failures, into the metrics.

`event_listeners()` is passed to `pymongo.MongoClient(..., event_listeners=...)` (store/client.py).
clinic_api.metrics (prometheus_client) is imported at the first event, not here: gunicorn's master
imports the store before it sets PROMETHEUS_MULTIPROC_DIR up (clinic_api/multiproc.py), and
prometheus_client must not be imported before that.
"""
from __future__ import annotations

from pymongo import monitoring


class CommandListener(monitoring.CommandListener):
    def started(self, event: monitoring.CommandStartedEvent) -> None:
        return None

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        from clinic_api import metrics

        metrics.DB_LATENCY.labels(event.command_name).observe(event.duration_micros / 1e6)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        from clinic_api import metrics

        metrics.DB_LATENCY.labels(event.command_name).observe(event.duration_micros / 1e6)
        metrics.DB_ERRORS.labels(event.command_name).inc()


def event_listeners() -> list[monitoring.CommandListener]:
    return [CommandListener()]
