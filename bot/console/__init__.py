"""The agents' console (Sanic): JSON API + web page; `python -m bot.console` serves it."""
