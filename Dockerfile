# syntax=docker/dockerfile:1
#
# Spendwatch container image.
#
#   docker build -t spendwatch .
#   docker run --rm -p 8000:8000 -e APP_ENV=development -v spendwatch-data:/data spendwatch spendwatch run
#
# The default command is the production API server (`spendwatch api`); the same image runs the
# scheduler (`spendwatch worker`) and migrations (`spendwatch db upgrade`). See docs/deployment.md.

############################################################################
# Stage 1: the web app (frontend/), built with Vite into frontend/dist.
# Vite 8 needs Node.js ^20.19 or >= 22.12: the current LTS line.
############################################################################
FROM node:22-bookworm-slim AS frontend
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false
WORKDIR /build/frontend
# The manifest and lock file first, in their own layer: a source change does not reinstall the packages.
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci
# Then the sources (.dockerignore keeps a local node_modules and dist out of the context).
COPY frontend/ ./
# The server serves dist/index.html at /: fail the build here rather than ship an image without it.
RUN npm run build && test -f dist/index.html

############################################################################
# Stage 2: a virtual environment with Spendwatch and its dependencies.
############################################################################
FROM python:3.11-slim AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app

# Dependencies first, in their own layer, so that a code change does not reinstall them:
# install the project from its metadata alone (the packages are empty at this point)...
COPY pyproject.toml README.md constraints.txt ./
RUN mkdir -p backend jobs integrations \
 && touch backend/__init__.py jobs/__init__.py integrations/__init__.py \
 && pip install -c constraints.txt . \
 && pip uninstall -y spendwatch \
 && rm -rf backend jobs integrations build ./*.egg-info

# ...then the source tree, installed in editable mode. The code stays at /app, next to migrations/
# and the Alembic files, which live outside the Python packages.
COPY . .
# The web app's sources are not needed at run time: its build comes from the frontend stage.
RUN pip install --no-deps --editable . \
 && python -m compileall -q backend jobs integrations migrations \
 && rm -rf frontend

############################################################################
# Stage 3: the runtime image.
############################################################################
FROM python:3.11-slim
LABEL org.opencontainers.image.title="Spendwatch" \
      org.opencontainers.image.description="Self-hosted spend monitor for AI providers and money accounts"

RUN groupadd --system --gid 10001 spendwatch \
 && useradd --system --uid 10001 --gid spendwatch --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin spendwatch \
 && mkdir -p /data \
 && chown spendwatch:spendwatch /data \
 && chmod 0700 /data

COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app
# backend/web.py serves <repository root>/frontend/dist, which is /app/frontend/dist here (the code stays at /app).
COPY --from=frontend /build/frontend/dist /app/frontend/dist

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    APP_ENV=production \
    SPENDWATCH_DATA_DIR=/data \
    SPENDWATCH_HOST=0.0.0.0 \
    SPENDWATCH_PORT=8000

WORKDIR /app
# Numeric, so that orchestrators can check that the image does not run as root.
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000

# slim images have no curl; urlopen raises (exit status 1) on a refused connection or an HTTP error.
# Only API containers serve HTTP: turn this check off for worker and migrate containers.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('SPENDWATCH_PORT', '8000'), timeout=4)"]

CMD ["spendwatch", "api"]
