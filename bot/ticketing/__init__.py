"""Tickets, agents and the human handoff (no Rasa imports): commands.py, queries.py and opening.py are the entry points."""
