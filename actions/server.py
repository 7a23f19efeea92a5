"""The action server: rasa-sdk's app plus the demo payment page, on one port.

Run with ``python -m actions.server`` (what ``make run`` does). Settings are read
and the demo store is checked before the port opens, so a bad variable or an
unusable store stops start-up with a clear message.
"""

from __future__ import annotations

import logging
import sys

from rasa_sdk.endpoint import create_app

from actions.payments.demo import DemoPaymentProvider
from actions.payments.pay_page import pay_blueprint
from actions.payments.webhooks import webhooks_blueprint
from actions.services import Services, configure
from actions.settings import Settings, SettingsError

logger = logging.getLogger("actions.server")


def main() -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    try:
        settings = Settings.from_env()
        services = Services.from_settings(settings)
    except SettingsError as error:
        print(f"Easy Flow actions: invalid setting: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(
            f"Easy Flow actions: cannot open the demo store: {error}", file=sys.stderr
        )
        return 2
    configure(services)
    app = create_app("actions")
    if isinstance(services.payments, DemoPaymentProvider):
        app.blueprint(pay_blueprint(services.payments, services.settlement))
    app.blueprint(
        webhooks_blueprint(
            {services.payments.name: services.payments}, services.settlement
        )
    )
    logger.info("actions.server.start port=%s", settings.actions_port)
    app.run(settings.actions_host, settings.actions_port, workers=1, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
