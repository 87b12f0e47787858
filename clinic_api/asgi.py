"""The object gunicorn serves: `gunicorn -c python:clinic_api.gunicorn_conf clinic_api.asgi:app`.

Logging is configured here too (JSON lines, LOG_LEVEL; idempotent after the gunicorn config's), so
`uvicorn clinic_api.asgi:app` logs the same way."""
import warnings
warnings.filterwarnings("ignore", message=".*httpx.*starlette.testclient.*")

from clinic_api import logging_setup  # noqa: E402
from clinic_api.app import create_app  # noqa: E402
from clinic_api.settings import Settings  # noqa: E402

logging_setup.configure()

app = create_app(Settings.from_env())
