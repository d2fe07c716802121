"""The nginx configurations `make proxy` and `make cluster` write, checked by nginx itself (`nginx -t`)."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from scripts.cluster import Layout, render_nginx
from scripts.run_proxy import nginx_binary, prepare
from tests.service_fixtures import service_unavailable


@pytest.fixture
def nginx() -> str:
    binary = nginx_binary()
    if binary is None:
        service_unavailable("nginx not installed (`make nginx` installs Debian's nginx)")
    return binary


def nginx_test(binary: str, prefix: Path, conf: Path) -> subprocess.CompletedProcess:
    return subprocess.run([binary, "-t", "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(conf)],
                          capture_output=True, text=True, timeout=30)


def test_the_proxy_configuration_passes_nginx_own_check(nginx, tmp_path):
    command = prepare(tmp_path, "127.0.0.1:18080", "127.0.0.1:15005")
    conf = tmp_path.resolve() / "nginx.conf"
    assert command[-4:] == ["-c", str(conf), "-g", "daemon off;"]
    text = conf.read_text()
    assert f"include {tmp_path.resolve() / 'assistant.conf'};" in text
    assert "worker_connections 512;" in text
    result = nginx_test(nginx, tmp_path.resolve(), conf)
    assert result.returncode == 0, result.stderr


def test_the_cluster_configuration_passes_nginx_own_check(nginx, tmp_path):
    layout = Layout(replicas=2, public_port=18080, api_port=16005, console_port=16080, action_port=16055,
                    base_port=16100)
    (tmp_path / "tmp").mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(render_nginx(layout, tmp_path))
    text = conf.read_text()
    # Every replica, action server and console behind its upstream; the public entry and the
    # three internal ones listening.
    for port in (*layout.rasa_ports(), *layout.action_ports(), *layout.console_ports()):
        assert f"server 127.0.0.1:{port} max_fails=1" in text
    for port in (layout.api_port, layout.action_port, layout.console_port):
        assert f"listen 127.0.0.1:{port};" in text
    assert f"include {tmp_path / 'public.conf'};" in text
    assert "listen 127.0.0.1:18080;" in (tmp_path / "public.conf").read_text()
    assert "proxy_pass http://rasa_replicas;" in (tmp_path / "public.conf").read_text()
    assert "worker_connections 2048;" in text
    # Sanic closes a kept connection after KEEP_ALIVE_TIMEOUT idle seconds; nginx must let go
    # first, or a request it sends on a closing connection is reset (a 502 for a POST).
    from sanic.config import DEFAULT_CONFIG

    timeouts = re.findall(r"keepalive_timeout (\d+)s;", text)
    assert len(timeouts) == text.count("upstream ") == 3
    assert all(int(t) < DEFAULT_CONFIG["KEEP_ALIVE_TIMEOUT"] for t in timeouts)
    result = nginx_test(nginx, tmp_path, conf)
    assert result.returncode == 0, result.stderr
