# Admin and analytics API (Python 3.12, FastAPI) serving the built dashboard.
#   docker build -f deploy/docker/api.Dockerfile -t easyflow/api:0.1.0 .
# The same image runs the database migration, Alembic `upgrade head`:
# `python -m easyflow_api migrate`
# (compose service api-migrate, Kubernetes Job easyflow-api-migrate).
# Base images are pinned by tag and digest; refresh both together (deploy/README.md).
ARG NODE_IMAGE=node:22.23.3-bookworm-slim@sha256:43ac6c60b8f89723f746e8a92ce91abd5017e627ce1ddfe4238355d3a30b772c
ARG PYTHON_IMAGE=python:3.12.14-slim-bookworm@sha256:782412e85d0f0984994c290652577d4018aff08145c85b262bb63dc0c7522254

# --- dashboard: npm ci && npm run build -> dashboard/dist -----------------------
FROM ${NODE_IMAGE} AS dashboard
ENV PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false
WORKDIR /src/dashboard
COPY dashboard/package.json dashboard/package-lock.json ./
RUN npm ci
COPY dashboard/ ./
RUN npm run build && test -f dist/index.html

# --- api dependencies from api/uv.lock --------------------------------------------
FROM ${PYTHON_IMAGE} AS deps
ARG UV_VERSION=0.13.9
ENV UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/app/api/.venv \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN pip install "uv==${UV_VERSION}"
WORKDIR /app/api
COPY api/pyproject.toml api/uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project --python /usr/local/bin/python3.12

# --- runtime: the repository layout the api expects (/app/api, /app/dashboard) ----
FROM ${PYTHON_IMAGE} AS runtime
ARG UID=10001
RUN groupadd --system --gid "${UID}" easyflow \
    && useradd --system --uid "${UID}" --gid easyflow --home-dir /app \
        --no-create-home --shell /usr/sbin/nologin easyflow
WORKDIR /app/api
ENV PATH=/app/api/.venv/bin:$PATH \
    PYTHONPATH=/app/api \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/app/var \
    EASYFLOW_DATA_DIR=/app/var \
    EASYFLOW_API_DASHBOARD_DIR=/app/dashboard/dist \
    EASYFLOW_API_DOMAIN_PATH=/app/domain.yml
COPY --from=deps /app/api/.venv /app/api/.venv
COPY api/easyflow_api/ /app/api/easyflow_api/
COPY domain.yml /app/domain.yml
# Seeds the knowledge base on first use (services/knowledge.py).
COPY data/knowledge/ /app/data/knowledge/
COPY --from=dashboard /src/dashboard/dist/ /app/dashboard/dist/
RUN mkdir -p /app/var && chown -R easyflow:easyflow /app/var
USER 10001:10001
VOLUME ["/app/var"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=4 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
CMD ["python", "-m", "easyflow_api", "serve", "--host", "0.0.0.0", "--port", "8000"]
