"""The demo store, the embedded default order source: seed data (``data``),
seeding a new file (``seed``), the SQLite file's life (``database``) and the
order source over it (``store``).
"""

from actions.integrations.demo_store.seed import demo_phone
from actions.integrations.demo_store.store import DemoStore

__all__ = ["DemoStore", "demo_phone"]
