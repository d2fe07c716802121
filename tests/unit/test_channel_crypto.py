"""Signatures and the AES message cipher, against WeCom's official vector and wechatpy."""
from __future__ import annotations

import base64
import struct

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from wechatpy.crypto import PrpCrypto

from bot.channels.crypto import (
    DecryptionError,
    MessageCipher,
    ReceiveIdError,
    SignatureError,
    pkcs7_unpad,
    signature,
    verify_signature,
)
from bot.channels.settings import ChannelConfigError, aes_key_from_encoding_key

# WeCom's published test vector (wechat-protocol.md).
VECTOR_TOKEN = "QDG6eK"
VECTOR_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
VECTOR_CORP_ID = "wx5823bf96d3bd56c7"
VECTOR_TIMESTAMP, VECTOR_NONCE = "1409659589", "263014780"
VECTOR_ECHOSTR = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
VECTOR_SIGNATURE = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"


def vector_cipher(receive_id: str = VECTOR_CORP_ID) -> MessageCipher:
    return MessageCipher(aes_key_from_encoding_key(VECTOR_KEY, "KEY"), receive_id)


def test_official_vector_signature_and_plaintext():
    assert signature(VECTOR_TOKEN, VECTOR_TIMESTAMP, VECTOR_NONCE, VECTOR_ECHOSTR) == VECTOR_SIGNATURE
    verify_signature(VECTOR_TOKEN, VECTOR_SIGNATURE, VECTOR_TIMESTAMP, VECTOR_NONCE, VECTOR_ECHOSTR, now=1409659589)
    assert vector_cipher().decrypt(VECTOR_ECHOSTR) == "1616140317555161061"


def test_official_vector_for_another_corp_id_is_refused():
    with pytest.raises(ReceiveIdError):
        vector_cipher("wx0000000000000000").decrypt(VECTOR_ECHOSTR)


@pytest.mark.parametrize(
    ("given", "timestamp", "nonce", "now"),
    [
        ("5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd4", VECTOR_TIMESTAMP, VECTOR_NONCE, 1409659589),  # forged
        (VECTOR_SIGNATURE, VECTOR_TIMESTAMP, "263014781", 1409659589),  # nonce changed
        (VECTOR_SIGNATURE, VECTOR_TIMESTAMP, VECTOR_NONCE, 1409659589 + 301),  # stale
        (VECTOR_SIGNATURE, VECTOR_TIMESTAMP, VECTOR_NONCE, 1409659589 - 301),  # from the future
        (None, VECTOR_TIMESTAMP, VECTOR_NONCE, 1409659589),  # missing
        (VECTOR_SIGNATURE, None, VECTOR_NONCE, 1409659589),
        ("", VECTOR_TIMESTAMP, VECTOR_NONCE, 1409659589),
        ("非ascii签名", VECTOR_TIMESTAMP, VECTOR_NONCE, 1409659589),
    ],
)
def test_bad_signatures_are_refused(given, timestamp, nonce, now):
    with pytest.raises(SignatureError):
        verify_signature(VECTOR_TOKEN, given, timestamp, nonce, VECTOR_ECHOSTR, now=now)


def test_signature_at_the_edge_of_the_window_is_accepted():
    verify_signature(VECTOR_TOKEN, VECTOR_SIGNATURE, VECTOR_TIMESTAMP, VECTOR_NONCE, VECTOR_ECHOSTR, now=1409659589 + 300)


def message_for_pad(pad: int, receive_id: str) -> str:
    """A message whose plaintext (16 + 4 + msg + id) needs exactly `pad` bytes of padding to a 32-byte block."""
    fixed = 16 + 4 + len(receive_id.encode())
    for length in range(1, 200):
        if 32 - (fixed + length) % 32 == pad:
            return "x" * length
    raise AssertionError("unreachable")


@pytest.mark.parametrize("pad", range(1, 33))
def test_round_trip_for_every_padding_length(pad):
    cipher = vector_cipher()
    message = message_for_pad(pad, VECTOR_CORP_ID)
    encrypted = cipher.encrypt(message)
    raw = Cipher(algorithms.AES(cipher.key), modes.CBC(cipher.key[:16])).decryptor().update(base64.b64decode(encrypted))
    assert raw[-1] == pad and raw[-pad:] == bytes([pad]) * pad  # the padding really is `pad` long
    assert cipher.decrypt(encrypted) == message
    # And with wechatpy on the other side, both ways.
    assert PrpCrypto(cipher.key).decrypt(encrypted, VECTOR_CORP_ID) == message
    assert cipher.decrypt(PrpCrypto(cipher.key).encrypt(message, VECTOR_CORP_ID).decode()) == message


def test_round_trip_of_chinese_xml():
    cipher = vector_cipher()
    xml = "<xml><Content><![CDATA[每个IP可以备案几次]]></Content></xml>"
    assert cipher.decrypt(cipher.encrypt(xml)) == xml


def raw_encrypt(key: bytes, plaintext: bytes) -> str:
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plaintext) + encryptor.finalize()).decode()


@pytest.mark.parametrize(
    "tail",
    [bytes([0]) * 32, bytes([33]) * 32, bytes([6]) * 26 + bytes([5]) + bytes([6]) * 5, b"A" * 31 + bytes([3])],
    ids=["zero", "above-32", "inconsistent", "mismatched-bytes"],
)
def test_bad_padding_is_refused(tail):
    key = aes_key_from_encoding_key(VECTOR_KEY, "KEY")
    body = b"0" * 16 + struct.pack(">I", 2) + b"hi" + VECTOR_CORP_ID.encode()
    body += b"z" * (-len(body) % 32)  # block-aligned, then a whole block of bad padding
    with pytest.raises(DecryptionError):
        MessageCipher(key, VECTOR_CORP_ID).decrypt(raw_encrypt(key, body + tail))


def test_declared_length_beyond_the_plaintext_is_refused():
    key = aes_key_from_encoding_key(VECTOR_KEY, "KEY")
    body = b"0" * 16 + struct.pack(">I", 5000) + b"hi"
    body += bytes([32 - len(body) % 32]) * (32 - len(body) % 32)
    with pytest.raises(DecryptionError):
        MessageCipher(key, VECTOR_CORP_ID).decrypt(raw_encrypt(key, body))


@pytest.mark.parametrize("ciphertext", ["", "not base64!", base64.b64encode(b"short").decode()])
def test_garbage_ciphertext_is_refused(ciphertext):
    with pytest.raises(DecryptionError):
        vector_cipher().decrypt(ciphertext)


def test_unpad_checks_the_block_size():
    assert pkcs7_unpad(b"a" * 30 + b"\x02\x02") == b"a" * 30
    assert pkcs7_unpad(bytes([32]) * 32) == b""
    with pytest.raises(DecryptionError):
        pkcs7_unpad(b"a" * 15 + b"\x01")  # not a multiple of 32


@pytest.mark.parametrize(
    ("value", "words"),
    [("short", "43-character"), ("!" * 43, "base64"), (VECTOR_KEY[:-1] + "=", "32 bytes")],
)
def test_malformed_encoding_aes_keys_are_explained(value, words):
    with pytest.raises(ChannelConfigError, match=words):
        aes_key_from_encoding_key(value, "WECHAT_ENCODING_AES_KEY")
