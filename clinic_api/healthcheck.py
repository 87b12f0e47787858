"""`python -m clinic_api.healthcheck`: exit 0 when GET /ready on this host's server answers 200,
1 otherwise. The container's HEALTHCHECK (the slim image has no curl)."""
from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def ready_url(env=os.environ) -> str:
    """The server's own address: $HOST:$PORT, loopback when it listens on every interface."""
    host = env.get("HOST") or "127.0.0.1"
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{env.get('PORT') or '8080'}/ready"


def main() -> int:
    url = ready_url()
    try:
        with urllib.request.urlopen(url, timeout=float(os.environ.get("HEALTHCHECK_TIMEOUT", "4"))) as resp:
            ok = resp.status == 200
    except (OSError, ValueError) as exc:  # refused, timed out, or an HTTP error status (HTTPError is an OSError)
        print(f"not ready: {exc}", file=sys.stderr)
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
