"""Rasa engine extensions for Easy Flow: NLU components, NLG and the action guard.

Modules here that import ``rasa`` are only imported by the Rasa process; the
``bot.language`` and ``bot.order_ids`` helpers are pure Python and shared with the
action server.
"""
