"""The development machine's secrets: the environment's, else generated once under var/secrets/ and reused."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.local_secrets import SecretError, local_secret, secret_path
from bot.settings import PROJECT_ROOT as ROOT
from scripts.cluster import Cluster, Layout


def test_the_environment_value_is_used_and_nothing_is_written(tmp_path):
    assert local_secret("RASA_API_TOKEN", {"RASA_API_TOKEN": " from-the-environment \n"}, tmp_path) == "from-the-environment"
    assert not (tmp_path / "secrets").exists()


def test_without_the_variable_a_secret_is_generated_once_private_and_reused(tmp_path):
    first = local_secret("METRICS_TOKEN", {}, tmp_path)
    path = tmp_path / "secrets" / "metrics_token"
    assert secret_path("METRICS_TOKEN", tmp_path) == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(first) >= 32
    assert local_secret("METRICS_TOKEN", {"METRICS_TOKEN": ""}, tmp_path) == first
    assert local_secret("ACTION_SERVER_TOKEN", {}, tmp_path) != first  # one file per variable
    assert sorted(p.name for p in path.parent.iterdir()) == ["action_server_token", "metrics_token"]


def test_processes_starting_together_agree_on_one_secret(tmp_path):
    with ThreadPoolExecutor(8) as pool:
        values = set(pool.map(lambda _: local_secret("RASA_API_TOKEN", {}, tmp_path), range(16)))
    assert len(values) == 1


def test_a_secret_shorter_than_required_is_refused_with_where_it_came_from(tmp_path):
    with pytest.raises(SecretError, match="RASA_API_TOKEN"):
        local_secret("RASA_API_TOKEN", {"RASA_API_TOKEN": "short"}, tmp_path, min_chars=16)
    path = secret_path("RASA_API_TOKEN", tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("\n")
    with pytest.raises(SecretError, match="delete it"):
        local_secret("RASA_API_TOKEN", {}, tmp_path)


def test_the_command_run_servers_calls_prints_the_kept_secret(tmp_path):
    env = {**os.environ, "BOT_VAR_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env.pop("RASA_API_TOKEN", None)
    printed = subprocess.run([sys.executable, "-m", "bot.local_secrets", "RASA_API_TOKEN"], env=env, cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
    assert printed == (tmp_path / "secrets" / "rasa_api_token").read_text()
    again = subprocess.run([sys.executable, "-m", "bot.local_secrets", "RASA_API_TOKEN"],
                           env={**env, "RASA_API_TOKEN": "given-token"}, cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout
    assert again == "given-token\n"


def test_the_cluster_gives_its_servers_the_secrets_make_run_keeps(tmp_path, monkeypatch):
    monkeypatch.setenv("BOT_VAR_DIR", str(tmp_path))
    layout = Layout(replicas=1, public_port=18080, api_port=16005, console_port=16080, action_port=16055,
                    base_port=16100)
    env = Cluster(layout, {"METRICS_TOKEN": "metrics-from-the-environment"}, tmp_path).environment()
    assert env["METRICS_TOKEN"] == "metrics-from-the-environment"
    for variable in ("RASA_API_TOKEN", "ACTION_SERVER_TOKEN", "WEBCHAT_SESSION_SECRET"):
        assert env[variable] == local_secret(variable, {}, tmp_path)
        assert (tmp_path / "secrets" / variable.lower()).exists()
