"""The query string as Go's url.ParseQuery reads it (the reference's Echo and kin-openapi both use
req.URL.Query(), which ignores the parse error): a pair whose key or value has an invalid
percent-escape (`search=%ZZ`, `limit=%`), or that holds a `;`, is dropped; the others are kept."""
from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")


def go_query(query: bytes) -> bytes:
    """The pairs of `query` Go keeps, in order, as they came."""
    if b"%" not in query and b";" not in query:
        return query
    kept = [pair for pair in query.split(b"&") if pair and b";" not in pair and not _BAD_ESCAPE.search(pair)]
    return b"&".join(kept)


class GoQuery:
    """Rewrites the scope's query string before anything reads it."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            scope["query_string"] = go_query(scope["query_string"])
        await self.app(scope, receive, send)
