"""The API docs beside the API (token-exempt, off with CLINIC_DOCS=false):

/docs            Swagger UI (the `swagger-ui-bundle` package's files, served from here: no CDN);
                 its Authorize button takes the contract's `x-tidepool-session-token` header
/openapi.json    the contract as JSON, `servers` pointing at this server (so "Try it out" calls it)
/openapi.yaml    the contract file itself (clinic.v1.yaml), byte for byte

Both documents are built once. connexion's own SwaggerUIMiddleware would serve the spec with every
$ref inlined (a megabyte, rebuilt on each request), so we serve these ourselves.
"""
from __future__ import annotations

import datetime
import functools
import html
import json

from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send
from swagger_ui_bundle import swagger_ui_path

from clinic_api import spec
from clinic_api.wire import dumps

ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js",
                    "favicon-32x32.png", "favicon-16x16.png", "oauth2-redirect.html"})

INDEX = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <title>{title}</title>
  <link rel="stylesheet" type="text/css" href="./swagger-ui.css">
  <link rel="icon" type="image/png" href="./favicon-32x32.png" sizes="32x32">
  <style>html {{ box-sizing: border-box; overflow-y: scroll; }} body {{ margin: 0; background: #fafafa; }}</style>
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="./swagger-ui-bundle.js" charset="UTF-8"></script>
  <script src="./swagger-ui-standalone-preset.js" charset="UTF-8"></script>
  <script>
    window.onload = function () {{
      window.ui = SwaggerUIBundle({{
        url: new URL("../openapi.json", window.location.href).href,
        dom_id: "#swagger-ui",
        deepLinking: true,
        validatorUrl: null,
        presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
        plugins: [SwaggerUIBundle.plugins.DownloadUrl],
        layout: "StandaloneLayout"
      }});
    }};
  </script>
</body>
</html>
"""


def _default(value):
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    raise TypeError(type(value).__name__)


@functools.lru_cache(maxsize=4)
def openapi_json(server_url: str) -> bytes:
    document = {**spec.load(), "servers": [{"url": server_url, "description": "this server"}]}
    return json.dumps(document, default=_default, ensure_ascii=False).encode()


@functools.lru_cache(maxsize=1)
def openapi_yaml() -> bytes:
    return spec.SPEC_PATH.read_bytes()


@functools.lru_cache(maxsize=1)
def index_html() -> str:
    return INDEX.format(title=html.escape(f"{spec.load()['info']['title']} - Swagger UI"))


class Docs:
    def __init__(self, app: ASGIApp):
        self.app = app
        self.static = StaticFiles(directory=str(swagger_ui_path))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path in ("/docs", "/openapi.json", "/openapi.yaml")
                                           or path.startswith("/docs/")):
            await self.app(scope, receive, send)
            return
        await self._answer(scope, path)(scope, receive, send)

    def _answer(self, scope: Scope, path: str) -> ASGIApp:
        if scope["method"] not in ("GET", "HEAD"):
            return Response(dumps({"message": "Method Not Allowed"}), status_code=405,
                            media_type="application/json", headers={"Allow": "GET, HEAD"})
        root = scope.get("root_path", "").rstrip("/")
        if path == "/openapi.json":
            return Response(openapi_json(root or "/"), media_type="application/json")
        if path == "/openapi.yaml":
            return Response(openapi_yaml(), media_type="application/yaml")
        if path == "/docs":
            return RedirectResponse(root + "/docs/")
        asset = path[len("/docs/"):]
        if asset in ("", "index.html"):
            return HTMLResponse(index_html())
        if asset not in ASSETS:
            return Response(dumps({"message": "Not Found"}), status_code=404, media_type="application/json")
        static_scope = {**scope, "path": "/" + asset, "root_path": ""}
        return _Scoped(self.static, static_scope)


class _Scoped:
    """An ASGI app called with another scope (the asset's path inside the bundle)."""

    def __init__(self, app: ASGIApp, scope: Scope):
        self.app, self.scope = app, scope

    async def __call__(self, _scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(self.scope, receive, send)
