"""The readiness check Kubernetes probes (deploy/k8s/base/rasa.yaml): a real Rasa server whose
model did not load still serves, and only GET /webhooks/rest/ tells, without the API token."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import httpx

from scripts.local_servers import free_port, wait_until_ready

ROOT = Path(__file__).resolve().parents[2]


def test_a_rasa_server_without_a_model_serves_but_is_not_ready(tmp_path):
    models = tmp_path / "models"
    models.mkdir()  # no model in it: Rasa warns and serves with an agent that has none
    port, token, log = free_port(), secrets.token_urlsafe(16), tmp_path / "rasa.log"
    env = {
        **os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false",
        "RASA_API_TOKEN": token, "ACTION_SERVER_TOKEN": "not-called-here",
        "WEBCHAT_SESSION_SECRET": secrets.token_urlsafe(24),
        "FILING_DB_URL": f"sqlite:///{tmp_path / 'filing.db'}", "TRACKER_STORE_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
        "CHANNEL_STORE_URL": f"sqlite:///{tmp_path / 'channels.db'}", "BOT_VAR_DIR": str(tmp_path / "var"),
    }
    rasa = subprocess.Popen(
        [sys.executable, "-m", "bot.server", "--model", str(models), "--enable-api", "--endpoints",
         str(ROOT / "endpoints.yml"), "--credentials", str(ROOT / "credentials.yml"),
         "--port", str(port), "--interface", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{base}/", rasa, log)  # Rasa's hello: up, whatever it loaded
        ready = httpx.get(f"{base}/webhooks/rest/", timeout=10)
        assert (ready.status_code, ready.json()) == (503, {"status": "no model loaded"})
        assert httpx.get(f"{base}/status", params={"token": token}, timeout=10).status_code == 409  # Rasa: no model
    finally:
        rasa.terminate()
        try:
            rasa.wait(timeout=20)
        except subprocess.TimeoutExpired:
            rasa.kill()
