# Action server (Python 3.10, rasa-sdk): actions/, the knowledge base, pay pages.
#   docker build -f deploy/docker/actions.Dockerfile -t easyflow/actions:0.1.0 .
# Base images are pinned by tag and digest; refresh both together (deploy/README.md).
ARG PYTHON_IMAGE=python:3.10-slim-bookworm@sha256:68d914ec641a0b69267ce65184d000a2bc3a9ee2590ab702b82250ab2385735a

# --- dependencies from the root uv.lock (the same lock as the Rasa image) -------
FROM ${PYTHON_IMAGE} AS deps
ARG UV_VERSION=0.13.9
ENV UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN pip install "uv==${UV_VERSION}"
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project --python /usr/local/bin/python3.10

# --- runtime --------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ARG UID=10001
RUN groupadd --system --gid "${UID}" easyflow \
    && useradd --system --uid "${UID}" --gid easyflow --home-dir /app \
        --no-create-home --shell /usr/sbin/nologin easyflow
WORKDIR /app
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/app/var \
    MPLCONFIGDIR=/tmp/matplotlib \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    EASYFLOW_DATA_DIR=/app/var \
    EASYFLOW_KNOWLEDGE_DIR=/app/data/knowledge \
    EASYFLOW_ACTIONS_HOST=0.0.0.0 \
    EASYFLOW_ACTIONS_PORT=5055
COPY --from=deps /app/.venv /app/.venv
COPY actions/ actions/
COPY common/ common/
COPY data/knowledge/ data/knowledge/
# var/ holds the demo store, the payment ledger and the support log (SQLite).
RUN mkdir -p /app/var && chown -R easyflow:easyflow /app/var
USER 10001:10001
VOLUME ["/app/var"]
EXPOSE 5055
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=4 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5055/health', timeout=4)"]
CMD ["python", "-m", "actions.server"]
