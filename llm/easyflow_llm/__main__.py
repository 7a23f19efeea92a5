"""``python -m easyflow_llm``: load the model, then serve the API (llm/README.md)."""

from __future__ import annotations

import logging
import os
import sys

from easyflow_llm.logs import configure
from easyflow_llm.settings import ServerSettings, SettingsError

logger = logging.getLogger("easyflow_llm")


def main() -> int:
    configure(os.environ.get("EASYFLOW_LOCAL_LOG_LEVEL", "INFO").upper())
    try:
        settings = ServerSettings.from_env()
    except SettingsError as error:
        logger.error("llm.settings.invalid", extra={"error": str(error)})
        return 2
    # Imported only now: torch and transformers take seconds to import.
    import uvicorn

    from easyflow_llm.app import create_app
    from easyflow_llm.model import ModelLoadError, load_model
    from easyflow_llm.worker import GenerationQueue

    try:
        model = load_model(settings.model_dir, settings.model_name, settings.threads)
    except ModelLoadError as error:
        logger.error("llm.model.invalid", extra={"error": str(error)})
        return 2
    queue = GenerationQueue(model, settings.max_queue, settings.threads)
    app = create_app(settings, queue)
    logger.info(
        "llm.server.start",
        extra={
            "host": settings.host,
            "port": settings.port,
            "auth": bool(settings.api_key),
        },
    )
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    finally:
        queue.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
