"""python -m bot.rasa_server: rasa run, always with the API token, never without one."""
import subprocess
import sys

from bot.rasa_server import rasa_argv


def test_the_token_reaches_rasa_even_when_it_starts_with_a_dash():
    from rasa.__main__ import create_argument_parser

    args = create_argument_parser().parse_args(rasa_argv(["--enable-api", "--auth-token", "mine"], "-Xy_9")[1:])
    assert args.auth_token == "-Xy_9" and args.enable_api


def test_without_a_token_the_rasa_server_refuses_to_start():
    result = subprocess.run([sys.executable, "-m", "bot.rasa_server", "--enable-api"], env={"PATH": "/usr/bin"},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "RASA_API_TOKEN is not set" in result.stderr
