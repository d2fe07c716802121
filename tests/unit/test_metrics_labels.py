"""What the metrics may carry as labels: channel names only, never a sender or a made-up name."""
from __future__ import annotations

import pytest

from bot.metrics import channel_label, channel_of_sender


@pytest.mark.parametrize("channel", ["rest", "webchat", "wechat", "wecom", "cmdline"])
def test_the_channels_are_their_own_labels(channel):
    assert channel_label(channel) == channel


@pytest.mark.parametrize("channel", [None, "", "rest:o_user_1", "anything-a-client-sends", "13812345678"])
def test_anything_else_is_other(channel):
    assert channel_label(channel) == "other"


def test_a_qualified_sender_gives_only_its_channel():
    assert channel_of_sender("wechat:o_abc123") == "wechat"
    assert channel_of_sender("webchat:sess-1") == "webchat"
    assert channel_of_sender("o_bare_openid") == "other"
