"""Analytics: Rasa's tracker events streamed by an event broker (broker.py), written into the
filing core's database by a consumer (consume.py, ingest.py, tables in models.py), and read back
as the figures the console serves (figures.py, definitions in its docstring)."""
