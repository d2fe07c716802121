"""Serve the agents' console: `python -m bot.console [--host H] [--port P]`.

Environment: FILING_DB_URL (the database), RASA_SERVER_URL (default http://localhost:5005),
RASA_API_TOKEN (when Rasa runs with --auth-token), HANDOFF_TIMEOUT_MINUTES (30),
CONSOLE_SESSION_HOURS (8), CONSOLE_CHAT_ORIGIN (an origin allowed to poll agents' replies),
WORKING_HOURS / WORKING_TIMEZONE (see bot/ticketing/working_hours.py).
"""
from __future__ import annotations

import argparse
import logging
import os

from bot import config
from bot.channels.chat_sessions import ChatSessions
from bot.console.app import ConsoleSettings, create_app
from bot.filing.db import create_schema, make_engine, session_factory
from bot.privacy import install_log_masking
from bot.ticketing.handoff import HandoffDesk
from bot.ticketing.rasa_conversations import RasaConversations, rasa_server_url

DEFAULT_PORT = 5080


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="agents' console")
    parser.add_argument("--host", default=os.environ.get("CONSOLE_HOST") or "127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("CONSOLE_PORT") or DEFAULT_PORT))
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_masking()
    engine = make_engine(config.filing_db_url())
    create_schema(engine)  # migrations: a no-op when the database is up to date
    factory = session_factory(engine)
    rasa = RasaConversations(rasa_server_url(), token=os.environ.get("RASA_API_TOKEN") or None)
    settings = ConsoleSettings(
        session_hours=float(os.environ.get("CONSOLE_SESSION_HOURS") or 8),
        background_interval=float(os.environ.get("HANDOFF_CHECK_SECONDS") or 5),
        chat_origin=os.environ.get("CONSOLE_CHAT_ORIGIN") or None,
        chat_sessions=ChatSessions.from_env(),  # WEBCHAT_SESSION_SECRET or var/secrets/, as the Rasa server reads it
    )
    app = create_app(factory, HandoffDesk(factory, rasa), settings)
    app.run(host=args.host, port=args.port, access_log=False, workers=1)


if __name__ == "__main__":
    main()
