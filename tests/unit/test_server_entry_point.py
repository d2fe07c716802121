"""python -m bot.server: rasa run, always with the API token, never without one."""
import subprocess
import sys

from bot.server import rasa_argv


def test_the_token_reaches_rasa_even_when_it_starts_with_a_dash():
    from rasa.__main__ import create_argument_parser

    args = create_argument_parser().parse_args(rasa_argv(["--enable-api", "--auth-token", "mine"], "-Xy_9")[1:])
    assert args.auth_token == "-Xy_9" and args.enable_api


def test_without_a_token_the_rasa_server_refuses_to_start():
    result = subprocess.run([sys.executable, "-m", "bot.server", "--enable-api"], env={"PATH": "/usr/bin"},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "RASA_API_TOKEN is not set" in result.stderr


def test_the_installed_rasa_has_every_name_the_patches_replace():
    from bot import rasa_speedups, server

    assert rasa_speedups.missing_targets() == []
    server.check_rasa()  # raises IncompatibleRasa otherwise


def test_a_missing_patched_name_stops_the_server_with_its_name(monkeypatch):
    import pytest
    from rasa.core.actions.action import RemoteAction

    from bot import server

    monkeypatch.delattr(RemoteAction, "_validate_action_result")
    with pytest.raises(server.IncompatibleRasa, match="RemoteAction._validate_action_result is missing"):
        server.check_rasa()


def test_another_rasa_version_stops_the_server(monkeypatch):
    import pytest

    from bot import rasa_speedups, server

    monkeypatch.setattr(rasa_speedups, "WRITTEN_FOR_RASA", "3.6.0")
    with pytest.raises(server.IncompatibleRasa, match="the patches are written for 3.6.0"):
        server.check_rasa()


def test_every_app_rasa_configures_masks_personal_data_in_its_logs():
    import rasa.core.run

    from bot import server

    server.install_patches()
    server.install_patches()  # idempotent: one wrapper
    app = rasa.core.run.configure_app(enable_api=False, port=0)
    # Sanic 21.12 keeps a server listener as a signal handler: partial(app._listener, listener=...).
    masking = [route.name for route in app.signal_router.routes
               if getattr(route.handler, "keywords", {}).get("listener") is server._mask_logs]
    assert masking == ["server.init.before"]
