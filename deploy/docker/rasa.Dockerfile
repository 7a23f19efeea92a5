# Rasa server (Python 3.10): connectors/, bot/ components, the trained model.
# The same image runs the outbox relay (`python -m outbox`, production profile).
#   docker build -f deploy/docker/rasa.Dockerfile -t easyflow/rasa:0.1.0 .
#   docker build ... --build-arg MODEL_SOURCE=copy   # reuse models/easyflow.tar.gz
# Base images are pinned by tag and digest; refresh both together (deploy/README.md).
ARG PYTHON_IMAGE=python:3.10-slim-bookworm@sha256:68d914ec641a0b69267ce65184d000a2bc3a9ee2590ab702b82250ab2385735a
# train: `rasa train` inside the build (reproducible from the data);
# copy: take models/easyflow.tar.gz from the build context (made by `make train`).
ARG MODEL_SOURCE=train

# --- dependencies from the root uv.lock, nothing else -------------------------
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
# The sources are not installed into the venv: they run from /app (PYTHONPATH), so
# paths the code derives from its own location point inside /app.
RUN uv sync --frozen --no-dev --no-install-project --python /usr/local/bin/python3.10

# --- the model ----------------------------------------------------------------
FROM deps AS model-train
ENV PATH=/app/.venv/bin:$PATH PYTHONPATH=/app RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1
COPY config.yml domain.yml ./
COPY bot/ bot/
COPY common/ common/
COPY data/nlu/ data/nlu/
COPY data/rules/ data/rules/
COPY data/stories/ data/stories/
RUN rasa train --data data/nlu data/rules data/stories \
        --fixed-model-name easyflow --out models \
    && test -s models/easyflow.tar.gz

FROM deps AS model-copy
COPY models/easyflow.tar.gz models/easyflow.tar.gz

FROM model-${MODEL_SOURCE} AS model

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
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    EASYFLOW_RASA_PORT=5005 \
    EASYFLOW_MODEL=/app/models/easyflow.tar.gz
COPY --from=deps /app/.venv /app/.venv
COPY bot/ bot/
COPY common/ common/
COPY connectors/ connectors/
COPY outbox/ outbox/
COPY deploy/production/credentials.py deploy/production/credentials.py
COPY config.yml domain.yml endpoints.yml endpoints.production.yml credentials.yml ./
COPY --from=model /app/models/easyflow.tar.gz models/easyflow.tar.gz
COPY deploy/docker/rasa-entrypoint.sh /usr/local/bin/easyflow-rasa
RUN chmod 0755 /usr/local/bin/easyflow-rasa \
    && mkdir -p /app/var && chown -R easyflow:easyflow /app/var
USER 10001:10001
VOLUME ["/app/var"]
EXPOSE 5005
# GET / answers once the model is loaded (Rasa opens the port after loading it).
HEALTHCHECK --interval=15s --timeout=5s --start-period=180s --retries=4 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5005/', timeout=4)"]
ENTRYPOINT ["easyflow-rasa"]
