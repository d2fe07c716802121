"""Serve the agents' console: `python -m bot.console [--host H] [--port P]`.

Environment: FILING_DB_URL (the database), RASA_SERVER_URL (default http://localhost:5005),
RASA_API_TOKEN (when Rasa runs with --auth-token), HANDOFF_TIMEOUT_MINUTES (30),
CONSOLE_SESSION_HOURS (8), CONSOLE_CHAT_ORIGIN (an origin allowed to poll agents' replies),
WORKING_HOURS / WORKING_TIMEZONE (see bot/ticketing/working_hours.py).
"""
from __future__ import annotations

import argparse
import logging

from bot.bootstrap import container
from bot.channels.chat_sessions import ChatSessions
from bot.console.app import ConsoleSettings, create_app
from bot.privacy import install_log_masking
from bot.ticketing.handoff import HandoffDesk
from bot.ticketing.rasa_conversations import RasaConversations

DEFAULT_PORT = 5080


def main(argv: list[str] | None = None) -> None:
    root = container()
    configured = root.settings.console()
    parser = argparse.ArgumentParser(description="agents' console")
    parser.add_argument("--host", default=configured.host)
    parser.add_argument("--port", type=int, default=configured.port)
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_masking()
    factory = root.migrated_filing_sessions()  # migrations: a no-op when the database is up to date
    rasa = RasaConversations(root.settings.rasa_server_url, token=root.settings.rasa_api_token or None)
    settings = ConsoleSettings(
        session_hours=configured.session_hours,
        background_interval=configured.check_seconds,
        chat_origin=configured.chat_origin,
        chat_sessions=ChatSessions.from_env(),  # WEBCHAT_SESSION_SECRET or var/secrets/, as the Rasa server reads it
    )
    app = create_app(factory, HandoffDesk(factory, rasa, timeout=root.settings.handoff_timeout()), settings)
    app.run(host=args.host, port=args.port, access_log=False, workers=1)


if __name__ == "__main__":
    main()
