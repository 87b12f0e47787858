"""The one error hierarchy. Handlers and stores raise; `render` is the only place that answers.

Every error body is {"message": "<text>"} followed by a newline, with the status of the kind,
as the reference service sends it.
"""
from __future__ import annotations


class ApiError(Exception):
    status = 500
    kind = "internal server error"

    def __init__(self, message: str | None = None):
        self.message = message if message is not None else self.kind
        super().__init__(self.message)


class BadRequest(ApiError):
    status = 400
    kind = "bad request"


class Unauthorized(ApiError):
    status = 401
    kind = "unauthorized"


class PaymentRequired(ApiError):
    status = 402
    kind = "payment required"


class Forbidden(ApiError):
    status = 403
    kind = "forbidden"


class NotFound(ApiError):
    status = 404
    kind = "not found"


class MethodNotAllowed(ApiError):
    status = 405
    kind = "Method Not Allowed"


class Duplicate(ApiError):
    status = 409
    kind = "duplicate"


class Conflict(ApiError):
    status = 409
    kind = "conflict"


class ConstraintViolation(ApiError):
    status = 422
    kind = "constraint violation"


class InternalError(ApiError):
    status = 500
    kind = "internal server error"


class PayloadTooLarge(ApiError):
    status = 413
    kind = "payload too large"


class HeadersTooLarge(ApiError):
    status = 431
    kind = "request header fields too large"


class ServiceUnavailable(ApiError):
    """The database or another service did not answer in time: try again (Retry-After)."""

    status = 503
    kind = "service unavailable"
    retry_after = 5


class NoChange(ApiError):
    """Answered as 204 without a body."""

    status = 204
    kind = "no change"


def bad_request(detail: str | None = None) -> BadRequest:
    return BadRequest(f"bad request: {detail}" if detail else "bad request")


def constraint(detail: str) -> ConstraintViolation:
    return ConstraintViolation(f"constraint violation: {detail}")


def duplicate(detail: str | None = None) -> Duplicate:
    return Duplicate(f"duplicate: {detail}" if detail else "duplicate")


SESSION_TOKEN_MISSING = "session token is missing"
SESSION_TOKEN_INVALID = "session token is invalid"
NOT_AUTHORIZED = "security requirements failed: the subject is not authorized for the requested action"
NO_OPERATION = "no matching operation was found"
METHOD_NOT_ALLOWED = "method not allowed"
INTERNAL = "Internal Server Error"
BODY_MISSING = "request body has an error: value is required but missing"
DATABASE_UNAVAILABLE = "the database is unavailable; try again later"


# --- rendering: the one place an error becomes a response ------------------------------------
import functools  # noqa: E402
import logging as _logging  # noqa: E402

from connexion.exceptions import ProblemException, UnsupportedMediaTypeProblem  # noqa: E402
from connexion.lifecycle import ConnexionResponse  # noqa: E402
from pymongo.errors import ConnectionFailure, ExecutionTimeout, PyMongoError, WTimeoutError  # noqa: E402
from starlette.exceptions import HTTPException  # noqa: E402

_log = _logging.getLogger("clinic_api.errors")


def _response(status: int, message: str | None, headers=None) -> ConnexionResponse:
    from clinic_api.wire import dumps

    if status == 204 or message is None:
        return ConnexionResponse(status_code=status, body=b"", headers=headers or {})
    return ConnexionResponse(status_code=status, body=dumps({"message": message}),
                             mimetype="application/json", content_type="application/json", headers=headers or {})


def render_api_error(_request, exc: ApiError) -> ConnexionResponse:
    if isinstance(exc, ServiceUnavailable):
        _log.warning("service unavailable: %s", exc.message)
        return _response(503, exc.message, headers={"Retry-After": str(exc.retry_after)})
    if exc.status >= 500:
        _log.error("%s: %s", type(exc).__name__, exc.message)
        return _response(exc.status, INTERNAL if exc.status == 500 else exc.message)
    return _response(exc.status, exc.message)


def render_problem(_request, exc: ProblemException) -> ConnexionResponse:
    if isinstance(exc, UnsupportedMediaTypeProblem):
        ct = (_request.headers.get("content-type") or "") if _request is not None else ""
        return _response(400, f'request body has an error: header Content-Type has unexpected value "{ct}"')
    if exc.status >= 500:
        # The detail may quote the data (a response failing validation): at debug level only.
        _log.error("connexion problem %s: %s", exc.status, exc.title or type(exc).__name__)
        _log.debug("connexion problem detail: %s", exc.detail)
        return _response(500, INTERNAL)
    return _response(exc.status, exc.detail or exc.title or "bad request")


def render_http_exception(_request, exc: HTTPException) -> ConnexionResponse:
    if exc.status_code >= 500:
        return _response(500, INTERNAL)
    return _response(exc.status_code, exc.detail or "error", headers=dict(exc.headers or {}))


def render_unexpected(_request, exc: Exception) -> ConnexionResponse:
    # Detail goes to the log only: no stack trace, database text or patient data in a response.
    _log.error("unexpected %s", type(exc).__name__, exc_info=exc)
    return _response(500, INTERNAL)


def render_database_error(request, exc: PyMongoError) -> ConnexionResponse:
    """A database that is down, unreachable or too slow (timeoutMS) is a 503, never a hang or a
    bare 500; any other database error stays a 500 (detail in the log only)."""
    if isinstance(exc, (ConnectionFailure, ExecutionTimeout, WTimeoutError)) or getattr(exc, "timeout", False):
        _log.warning("database unavailable: %s", type(exc).__name__)
        return _response(503, DATABASE_UNAVAILABLE, headers={"Retry-After": str(ServiceUnavailable.retry_after)})
    return render_unexpected(request, exc)


def on_loop(render):
    """`render` as a coroutine function: connexion awaits coroutine handlers directly and sends
    plain ones to a worker thread. Rendering does no I/O (a log line at most), so it runs on the
    event loop; the response it builds is the same."""

    @functools.wraps(render)
    async def handler(request, exc):
        return render(request, exc)

    return handler


HANDLERS = (
    (ApiError, render_api_error),
    (PyMongoError, render_database_error),
    (ProblemException, render_problem),
    (HTTPException, render_http_exception),
    (Exception, render_unexpected),
)
