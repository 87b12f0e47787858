"""The object gunicorn serves: `gunicorn -c python:clinic_api.gunicorn_conf clinic_api.asgi:app`."""
import warnings
warnings.filterwarnings("ignore", message=".*httpx.*starlette.testclient.*")
import logging
import os

from clinic_api.app import create_app
from clinic_api.settings import Settings

logging.basicConfig(level=os.environ.get("LOG_LEVEL", "info").upper().replace("WARN", "WARNING")
                    if os.environ.get("LOG_LEVEL", "info").lower() in ("debug", "info", "warn", "error") else "INFO",
                    format='{"level":"%(levelname)s","logger":"%(name)s","msg":"%(message)s"}')

app = create_app(Settings.from_env())
