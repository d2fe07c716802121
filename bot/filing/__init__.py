"""Filing core: plain-Python domain logic (no Rasa, no web frameworks)."""
