"""Calling the two apps in-process with as little driver cost as possible, and counting store
commands.

`AsgiDriver` sends one request at a time straight into an ASGI app (the full clinic-api: connexion
FlaskApp with our middlewares) on a persistent event loop; `WsgiDriver` calls a WSGI app (the bare
Flask twin) with a minimal environ. Neither goes through a socket or an HTTP client, so the
difference between the two sides is the pipeline, not the driver.

Commands per request: on the wire, PyMongo command monitoring (a global listener, registered before
any client exists, counts every command started); on the memory store, the top-level calls on
mongomock's Collection class (calls the embedded store makes inside another call are not counted),
as the previous bench did.
"""
from __future__ import annotations

import asyncio
import io
import sys
import threading
import time

import orjson
from pymongo import monitoring


class Reply:
    __slots__ = ("status", "body")

    def __init__(self, status: int, body: bytes):
        self.status = status
        self.body = body

    def json(self):
        return orjson.loads(self.body)


def _header_list(headers: dict[str, str] | None, body: bytes) -> list[tuple[bytes, bytes]]:
    out = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    if body:
        out += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return out


class AsgiDriver:
    def __init__(self, app):
        self.app = app
        self.loop = asyncio.new_event_loop()

    def close(self) -> None:
        self.loop.close()

    def request(self, method: str, path: str, query: str = "", headers: dict | None = None,
                body: bytes = b"") -> Reply:
        return self.loop.run_until_complete(self._call(method, path, query, headers, body))

    async def _call(self, method, path, query, headers, body) -> Reply:
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
                 "query_string": query.encode("latin-1"), "headers": _header_list(headers, body),
                 "client": ("127.0.0.1", 50000), "server": ("bench", 80)}
        done = asyncio.Event()
        sent = False
        status = 0
        chunks: list[bytes] = []

        async def receive():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    done.set()

        await self.app(scope, receive, send)
        return Reply(status, b"".join(chunks))


class WsgiDriver:
    def __init__(self, app):
        self.app = app

    def close(self) -> None:
        return None

    def request(self, method: str, path: str, query: str = "", headers: dict | None = None,
                body: bytes = b"") -> Reply:
        environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "SCRIPT_NAME": "",
                   "SERVER_NAME": "bench", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
                   "REMOTE_ADDR": "127.0.0.1", "wsgi.version": (1, 0), "wsgi.url_scheme": "http",
                   "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "wsgi.multithread": False,
                   "wsgi.multiprocess": False, "wsgi.run_once": False}
        if body:
            environ["CONTENT_TYPE"] = "application/json"
            environ["CONTENT_LENGTH"] = str(len(body))
        for key, value in (headers or {}).items():
            environ["HTTP_" + key.upper().replace("-", "_")] = value
        status: list[int] = []

        def start_response(line, _headers, _exc_info=None):
            status.append(int(line.split(" ", 1)[0]))

        result = self.app(environ, start_response)
        try:
            data = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return Reply(status[0], data)


# --- store commands ----------------------------------------------------------------------------------

class CommandCounter(monitoring.CommandListener):
    """Counts database commands: PyMongo's started events (wire) plus top-level mongomock
    collection calls (memory). One instance, installed once, before any client is created."""

    METHODS = ("find", "find_one", "aggregate", "count_documents", "estimated_document_count", "distinct",
               "insert_one", "insert_many", "update_one", "update_many", "replace_one", "bulk_write",
               "find_one_and_update", "find_one_and_replace", "find_one_and_delete", "delete_one", "delete_many")

    def __init__(self):
        self.count = 0
        self._lock = threading.Lock()
        self._depth = threading.local()
        monitoring.register(self)
        try:
            import mongomock_ng
        except ImportError:  # pragma: no cover - the memory store is a base dependency
            return
        for name in self.METHODS:
            original = getattr(mongomock_ng.Collection, name, None)
            if original is not None:
                setattr(mongomock_ng.Collection, name, self._wrap(original))

    def _bump(self) -> None:
        with self._lock:
            self.count += 1

    def _wrap(self, original):
        counter = self

        def call(*args, **kwargs):
            depth = getattr(counter._depth, "value", 0)
            if depth == 0:
                counter._bump()
            counter._depth.value = depth + 1
            try:
                return original(*args, **kwargs)
            finally:
                counter._depth.value = depth
        return call

    # PyMongo listener
    def started(self, event) -> None:
        if event.command_name not in ("endSessions", "hello", "isMaster", "ping"):
            self._bump()

    def succeeded(self, event) -> None:
        return None

    def failed(self, event) -> None:
        return None


def timed(send, count: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process, all its threads) for `count` calls of send()."""
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        send()
    return time.perf_counter() - started, time.process_time() - cpu
