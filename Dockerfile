# clinic-api image: docker build -t clinic-api .   (the README says how to run it)

# Build stage: the runtime dependencies, pinned and hash-checked from requirements-runtime.lock, and
# the project's wheel, installed together into a venv of their own that the final stage copies.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY requirements-runtime.lock ./
RUN python -m venv --without-pip /opt/clinic-api \
 && pip --python /opt/clinic-api/bin/python install --no-cache-dir --require-hashes -r requirements-runtime.lock
COPY pyproject.toml README.md clinic.v1.yaml ./
COPY clinic_api ./clinic_api
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
 && pip --python /opt/clinic-api/bin/python install --no-cache-dir --no-deps --no-index /wheels/clinic_api-*.whl

# Final stage: the interpreter and that venv; no pip, setuptools or compiler; runs as a non-root user.
FROM python:3.11-slim
RUN python -m pip uninstall --no-cache-dir --yes pip setuptools wheel \
 && groupadd --system --gid 10001 clinic \
 && useradd --system --uid 10001 --gid clinic --create-home --home-dir /home/clinic --shell /usr/sbin/nologin clinic
COPY --from=build /opt/clinic-api /opt/clinic-api
# Configuration is the environment (README, Configuration). The image listens on every interface and
# needs a MongoDB: pass MONGODB_URI (a replica set) and CLINIC_TOKEN_SECRET at run time.
ENV PATH=/opt/clinic-api/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOST=0.0.0.0 \
    PORT=8080 \
    CLINIC_STORE=mongodb
USER 10001:10001
WORKDIR /home/clinic
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["python", "-m", "clinic_api.healthcheck"]
CMD ["gunicorn", "-c", "python:clinic_api.gunicorn_conf", "clinic_api.asgi:app"]
