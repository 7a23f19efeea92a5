"""Order sources and payment providers saved on the dashboard's Integrations
page, checked and picked up while the action server runs (no restart)."""
