"""Agent accounts from the command line.

    python -m bot.console.agents add NAME      # password from AGENT_PASSWORD, else asked twice
    python -m bot.console.agents passwd NAME   # new password (ends the agent's sessions)
    python -m bot.console.agents list
"""
from __future__ import annotations

import argparse
import getpass
import sys

from bot.settings import settings as current_settings
from bot.storage.engines import make_engine, session_factory
from bot.storage.schema import create_schema
from bot.ticketing.agents import AgentError, add_agent, list_agents, set_password


def _password() -> str:
    from_env = current_settings().get("AGENT_PASSWORD") or None
    if from_env:
        return from_env
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise AgentError("the passwords differ")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="manage the console's agent accounts")
    parser.add_argument("--url", default=None, help="database URL (default: FILING_DB_URL or var/filing.db)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("add", help="create an account").add_argument("name")
    commands.add_parser("passwd", help="set a new password").add_argument("name")
    commands.add_parser("list", help="list the accounts")
    args = parser.parse_args(argv)

    engine = make_engine(args.url or current_settings().filing_db_url)
    create_schema(engine)
    factory = session_factory(engine)
    try:
        if args.command == "add":
            agent = add_agent(factory, args.name, _password())
            print(f"agent {agent.name} created")
        elif args.command == "passwd":
            set_password(factory, args.name, _password())
            print(f"password of {args.name} changed")
        else:
            for agent in list_agents(factory):
                print(agent.name)
    except AgentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
