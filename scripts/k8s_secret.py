#!/usr/bin/env python3
"""Prints the Kubernetes Secret `assistant-secrets` (deploy/k8s/secret.template.yaml) for `kubectl apply -f -`.

    FILING_DB_URL=postgresql://... TRACKER_STORE_URL=postgresql://... \\
    CHANNEL_STORE_URL=redis://... LOCK_STORE_URL=redis://... [WECHAT_TOKEN=... ...] \\
      python scripts/k8s_secret.py | kubectl -n assistant apply -f -

RASA_API_TOKEN, ACTION_SERVER_TOKEN, WEBCHAT_SESSION_SECRET and METRICS_TOKEN are generated unless set; every
other key comes from the environment under its own name (empty: that channel is off). The store
URLs and the event broker's are required and must name a shared server (a SQLite file would be
one per pod); EVENT_BROKER_URL=off turns the analytics off.
Nothing is written to disk; the output holds the secrets, so pipe it, do not save it.
"""
from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Mapping

import yaml

from bot.settings import SECRET_VARIABLES

SECRET_NAME = "assistant-secrets"
GENERATED = ("RASA_API_TOKEN", "ACTION_SERVER_TOKEN", "WEBCHAT_SESSION_SECRET", "METRICS_TOKEN")
SHARED_STORES = {
    "FILING_DB_URL": ("postgresql",), "TRACKER_STORE_URL": ("postgresql",),
    "CHANNEL_STORE_URL": ("redis://", "rediss://", "postgresql"), "LOCK_STORE_URL": ("redis://", "rediss://"),
    "EVENT_BROKER_URL": ("postgresql", "amqp://", "amqps://"),  # or exactly "off": no analytics
}


class SecretInputError(ValueError):
    """A required value is missing or would not be shared by the replicas."""


def secret_manifest(env: Mapping[str, str]) -> dict:
    """The Secret for `env`: generated tokens where unset, the other keys as given."""
    problems = [f"{name} must be a {' or '.join(prefixes)} URL shared by every pod"
                for name, prefixes in SHARED_STORES.items()
                if not env.get(name, "").startswith(prefixes) and not (name == "EVENT_BROKER_URL" and env.get(name) == "off")]
    if env.get("EVENT_BROKER_URL") == env.get("TRACKER_STORE_URL"):
        problems.append("EVENT_BROKER_URL must be another database than TRACKER_STORE_URL (both keep a table `events`)")
    if problems:
        raise SecretInputError("; ".join(problems))
    values = {name: env.get(name, "") for name in SECRET_VARIABLES}
    for name in GENERATED:
        values[name] = values[name] or secrets.token_urlsafe(32)
    return {
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": SECRET_NAME, "labels": {"app.kubernetes.io/name": "icp-assistant"}},
        "stringData": values,
    }


def main() -> None:
    try:
        manifest = secret_manifest(os.environ)
    except SecretInputError as error:
        sys.exit(f"k8s_secret: {error}")
    yaml.safe_dump(manifest, sys.stdout, sort_keys=False, allow_unicode=True)


if __name__ == "__main__":
    main()
