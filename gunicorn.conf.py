"""gunicorn settings: the uvicorn worker serving clinic_api.asgi:app on $PORT."""
import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8080')}"
worker_class = "uvicorn.workers.UvicornWorker"
# The embedded store lives in process memory: more than one worker would give each its own data.
workers = int(os.environ.get("WEB_CONCURRENCY", "1" if not (os.environ.get("MONGODB_URI") or os.environ.get("TIDEPOOL_STORE_ADDRESSES")) else "2"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 15
keepalive = 5
# The reference (Go net/http) accepts long query strings and headers; gunicorn's defaults are far smaller.
limit_request_line = 0
limit_request_field_size = 0
accesslog = "-"
access_log_format = '{"remote_ip":"%(h)s","request":"%(r)s","status":%(s)s,"size":%(b)s,"latency_us":%(D)s,"user_agent":"%(a)s"}'
