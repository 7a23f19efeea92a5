"""The outbox relay of the production profile: a separate process that publishes
tracker-store events to RabbitMQ (``python -m outbox``)."""
