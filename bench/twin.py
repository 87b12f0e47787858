"""The bare Flask twin of GetClinic: the same token check (the app's own verifier), the same policy
row, the same handler function (so the same store calls, whatever they are) and the same JSON
writer, without connexion, middlewares, validation or the ASGI->WSGI bridge. It is called as a
plain WSGI app (drive.WsgiDriver); the difference from the full app is the pipeline."""
from __future__ import annotations

import flask
from connexion import context as connexion_context

from clinic_api import wire
from clinic_api.auth import policy
from clinic_api.auth.tokens import TokenInvalid
from clinic_api.context import EXTENSION
from clinic_api.errors import ApiError
from clinic_api.handlers import clinics as clinic_handlers

TOKEN_HEADER = "x-tidepool-session-token"


def _error(status: int, message: str) -> flask.Response:
    return flask.Response(wire.dumps({"message": message}), status=status, mimetype="application/json")


def bare_flask(services) -> flask.Flask:
    app = flask.Flask("bare")

    @app.get("/v1/clinics/<clinic_id>")
    def get_clinic(clinic_id):
        token = flask.request.headers.get(TOKEN_HEADER)
        if not token:
            return _error(400, "session token is missing")
        try:
            principal = services.tokens.verify(token)
        except TokenInvalid:
            return _error(401, "session token is invalid")
        req = policy.Request(principal=principal, path_params={"clinicId": clinic_id},
                             load_clinician=lambda: services.memberships(services.store.db, clinic_id,
                                                                         principal.user_id))
        if not policy.allows("GetClinic", req):
            return _error(403, "forbidden")
        connexion_context._scope.set({"extensions": {EXTENSION: {"principal": principal, "services": services}}})
        try:
            body, status = clinic_handlers.get_clinic(clinic_id)
        except ApiError as exc:
            return _error(exc.status, exc.message)
        return flask.Response(wire.dumps(body), status=status, mimetype="application/json")

    return app
