"""Tickets, agents and the human handoff (no Rasa imports): see service.py for the entry points."""
