"""Rasa input/output channels: WeChat Official Account, WeCom and the web chat page."""
