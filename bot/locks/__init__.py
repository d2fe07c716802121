"""Rasa's per-conversation lock across replicas: one turn of a sender at a time, on any server.

`ConfiguredLockStore` is what endpoints.yml names: Redis when LOCK_STORE_URL is set, otherwise
Rasa's in-memory lock (one process). `RedisTicketLockStore` is the Redis lock itself.
"""
