"""Xealth: preorder forms, order notifications, programs, the report link and its viewer page
(auth note §4.2).

None of these routes is token-authenticated nor validated against the contract: the four Xealth
calls check `Authorization: Bearer <TIDEPOOL_XEALTH_BEARER_TOKEN>` before reading their body; the
viewer page checks the restricted token of its link. With TIDEPOOL_XEALTH_ENABLED false every one
answers 404 `not found: the xealth integration is not enabled` (the reference: 500).
"""
from __future__ import annotations

from connexion import NoContent
from connexion.lifecycle import ConnexionResponse

from clinic_api import context
from clinic_api.domain import gojson, xealth, xealth_programs
from clinic_api.domain import xealth_preorder as preorder
from clinic_api.errors import BadRequest
from clinic_api.self_verified import raw_body

HTML = "text/html; charset=UTF-8"


def _caller():
    services = context.services()
    xealth.authorize(services.settings, context.header("authorization"))
    return services


def _bound():
    return gojson.bind(raw_body(), context.header("content-type"))


def xealth_preorder():
    services = _caller()
    return preorder.handle(services, raw_body()), 200


def xealth_notification():
    services = _caller()
    xealth.handle_notification(services, xealth.event_notification(_bound()))
    return NoContent, 200


def xealth_get_programs():
    services = _caller()
    return xealth_programs.get_programs(services, _bound()), 200


def xealth_get_program_url():
    services = _caller()
    return xealth_programs.get_program_url(services, _bound()), 200


def view_pdf_report(clinicId=None, patientId=None, restricted_token=None):
    for name, value in (("clinicId", clinicId), ("patientId", patientId), ("restricted_token", restricted_token)):
        if value is None:
            raise BadRequest(f"Invalid format for parameter {name}: query parameter '{name}' is required")
    services = context.services()
    xealth.ensure_enabled(services.settings)
    url = xealth_programs.report_url(services, clinicId, patientId, restricted_token)
    page = VIEWER_PAGE.replace("{{REPORT_URL}}", js_string(url)).encode()
    return ConnexionResponse(status_code=200, body=page, headers={"Content-Type": HTML})


# --- the viewer page -----------------------------------------------------------------------------

_JS_ESCAPES = {"\\": "\\\\", "'": "\\u0027", '"': "\\u0022", "`": "\\u0060", "&": "\\u0026", "+": "\\u002b",
               "/": "\\/", "<": "\\u003c", ">": "\\u003e", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\f": "\\f",
               "\u2028": "\\u2028", "\u2029": "\\u2029"}


def js_string(text: str) -> str:
    """Text for the inside of a JavaScript string literal in HTML, escaped as Go's html/template
    escapes it there (`/` -> `\\/`, `&` -> `\\u0026`, `+` -> `\\u002b`, quotes and `<>` as \\u)."""
    out = []
    for ch in text:
        if ch in _JS_ESCAPES:
            out.append(_JS_ESCAPES[ch])
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


VIEWER_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Tidepool report</title>
  <style>html, body, iframe { margin: 0; border: 0; width: 100%; height: 100%; }</style>
</head>
<body>
  <iframe id="report" title="Tidepool report"></iframe>
  <script>
    const reportUrl = "{{REPORT_URL}}";
    document.getElementById("report").src = reportUrl;
  </script>
</body>
</html>
"""
