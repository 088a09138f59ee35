# syntax=docker/dockerfile:1
# One image for every Practika process; the command picks the role (infra/docker/entrypoint.sh):
#   web      gunicorn config.wsgi:application (the pages: everything but /ws/), port 8000
#   ws       uvicorn config.asgi:application (the websockets under /ws/), port 8001
#   worker   celery -A config worker -Q <queues>   (CELERY_QUEUES, default "default,billing,video")
#   beat     celery -A config beat
#   migrate  shared schema, then every tenant schema in parallel (manage.py migrate_tenants)

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:20-bookworm-slim

# --- frontend: the pages' browser libraries from frontend/package-lock.json --------------------
# Uppy bundled with esbuild and uPlot copied into templates/static/vendor/ (what `make` does on
# a developer's machine); only that folder reaches the runtime image, never node or npm.
FROM ${NODE_IMAGE} AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY frontend/build.mjs ./
COPY frontend/src ./src
RUN mkdir -p /src/templates/static && node build.mjs

# --- build: install the locked dependencies into a virtualenv --------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /build
# binutils for `strip` (infra/docker/prune-packages.sh); the build stage only. Debian's
# current binutils: the stage is thrown away, nothing of it reaches the image but the venv.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends binutils \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.lock .
COPY infra/docker/prune-packages.sh /usr/local/bin/prune-packages
# --require-hashes: every file must be the one the lock names; --no-deps: the lock file is the
# whole dependency closure, nothing unlocked may slip in. prune-packages removes what the
# platform never loads (the wheels' test suites, onnxruntime's C API library, botocore's models
# of unused services, *.po sources; bench/runtime_image.py weighs the result and runs it).
# ffmpeg comes inside the imageio-ffmpeg wheel (libx264, aac, opus, vpx): no apt package.
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock \
    && prune-packages /opt/venv/lib/python3.11/site-packages \
    && python -c "import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())"

# --- runtime ---------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app/platform:/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production
RUN groupadd --system --gid 10001 practika \
    && useradd --system --uid 10001 --gid practika --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin practika
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# Code and collected static files stay owned by root: the app user can read, not change them.
COPY . .
COPY --from=frontend /src/templates/static/vendor templates/static/vendor
# Static files are collected at build time with production settings and a throwaway secret
# (no database or network needed); hashed names let the CDN cache them for a year.
RUN DJANGO_SECRET_KEY=build-time-only-not-a-secret \
    PRACTIKA_BASE_DOMAIN=build.invalid \
    python manage.py collectstatic --noinput --verbosity 0 \
    && chmod 0755 infra/docker/entrypoint.sh
# The alignment engine's numba kernels, compiled once here into a seed cache: the worker's
# entrypoint copies it to NUMBA_CACHE_DIR on the writable /tmp (numba will not use a cache
# directory it cannot write to, and the root filesystem is read-only in production), so no
# worker process compiles them again. Generic machine code: any x86-64 CPU may run the task.
ENV NUMBA_CPU_NAME=generic \
    NUMBA_CACHE_DIR=/tmp/numba-cache \
    PRACTIKA_NUMBA_CACHE_SEED=/opt/numba-cache
RUN NUMBA_CACHE_DIR=/opt/numba-cache python -m learning.alignment.engine.warm
USER 10001:10001
EXPOSE 8000 8001
# Liveness only (no database): the load balancer's target groups probe /readyz. The ws role
# listens on PORT=8001 (compose.yaml, the ECS task set it).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]
ENTRYPOINT ["/app/infra/docker/entrypoint.sh"]
CMD ["web"]
