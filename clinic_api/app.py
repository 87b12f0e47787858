"""The application factory: connexion FlaskApp on clinic.v1.yaml with our pipeline."""
from __future__ import annotations

from typing import TYPE_CHECKING

import functools
import logging

import connexion
from connexion.jsonifier import Jsonifier
from connexion.middleware.exceptions import ExceptionMiddleware
from connexion.middleware.lifespan import LifespanMiddleware
from connexion.middleware.context import ContextMiddleware
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.middleware.server_error import ServerErrorMiddleware

from clinic_api import errors, self_verified, services as services_mod, spec, validation, wire
from clinic_api.limits import Limits
from clinic_api.auth.middleware import Authorize, Gate, ResponseFormat
from clinic_api.goquery import GoQuery
from clinic_api.docs import Docs
from clinic_api.observe import MetricsEndpoint, Observe
from clinic_api.resolver import ClinicResolver
from clinic_api.routing import RouteOnce
from clinic_api.settings import Settings
from clinic_api.store import client as store_client
from clinic_api.store import indexes

if TYPE_CHECKING:
    from clinic_api.services import Services

log = logging.getLogger("clinic_api")


class WireJsonifier(Jsonifier):
    """Response bodies as the reference writes them (see wire.dumps)."""

    def __init__(self):
        super().__init__()

    def dumps(self, data, **kwargs):
        return wire.dumps(data).decode()


def shutdown(app: connexion.FlaskApp) -> None:
    """When a worker stops (gunicorn has drained its in-flight requests by then, within
    graceful_timeout): the database client is closed."""
    app.services.store.client.close()


def create_app(settings: Settings | None = None, services: Services | None = None) -> connexion.FlaskApp:
    settings = settings or Settings.from_env()
    services = services or services_mod.build(settings)
    store_client.check_transactions(services.store, settings)
    indexes.ensure(services.store)
    # Security is ours (Gate + Authorize), so connexion's SecurityMiddleware and its Swagger UI are
    # left out of the stack. Observe (request id, access log, metrics) wraps everything; the gate lets
    # /metrics and the docs (docs.py: /docs, /openapi.json, /openapi.yaml) through without a token.
    docs = [Docs] if settings.docs else []
    middlewares = [
        Observe,
        ResponseFormat,
        ServerErrorMiddleware,
        ExceptionMiddleware,
        functools.partial(Limits, max_body=settings.max_body_bytes, max_header=settings.max_header_bytes),
        GoQuery,  # pairs with invalid percent-escapes dropped, as Go's url.ParseQuery does
        functools.partial(Gate, services=services),
        functools.partial(MetricsEndpoint, services=services),
        *docs,
        RouteOnce,  # connexion's routing, fed by the gate's resolution (routing.py)
        functools.partial(Authorize, services=services),
        self_verified.RequestValidation,  # connexion's, except for operations that verify their callers
        ResponseValidationMiddleware,
        LifespanMiddleware,
        ContextMiddleware,
    ]
    app = connexion.FlaskApp(__name__, middlewares=middlewares, specification_dir=str(spec.SPEC_PATH.parent))
    app.add_api(
        spec.SPEC_PATH.name,
        resolver=ClinicResolver(),
        strict_validation=False,
        validate_responses=settings.validate_responses,
        validator_map=validation.VALIDATOR_MAP,
        jsonifier=WireJsonifier(),
        swagger_ui_options=None,
    )
    # Coroutines, so connexion calls them on the event loop instead of hopping to a thread for each
    # error (it runs plain functions in its thread pool); the rendering itself is unchanged.
    for exc_class, handler in errors.HANDLERS:
        app.add_error_handler(exc_class, errors.on_loop(handler))
    app.app.config["JSON_SORT_KEYS"] = False
    app.services = services
    return app


# connexion logs a line per request for operations that accept several media types.
logging.getLogger("connexion.operations.openapi3").setLevel(logging.ERROR)
