"""Callback signatures and the AES message cipher shared by the Official Account and WeCom.

wechatpy compares signatures with `!=`, has no freshness check and unpads with a
tolerant PKCS#7 decoder; these are the strict versions. Encryption itself is wechatpy's.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
import time

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from wechatpy.crypto import PrpCrypto

# The platform pads to a 32-byte block: a pad value may be anything from 1 to 32.
BLOCK_SIZE = 32
# Requests whose timestamp is further from our clock than this are replays or forgeries.
MAX_CLOCK_SKEW_SECONDS = 300


class SignatureError(Exception):
    """Missing, forged or stale signature: the request is refused (403)."""


class DecryptionError(Exception):
    """A ciphertext that does not decrypt to a well-formed message (400)."""


class ReceiveIdError(Exception):
    """A ciphertext made for another app id / corp id (403)."""


def signature(token: str, timestamp: str, nonce: str, *extra: str) -> str:
    """sha1 hex of the sorted, concatenated parts: the platform's signature scheme."""
    parts = sorted([token, timestamp, nonce, *extra])
    return hashlib.sha1("".join(parts).encode("utf-8")).hexdigest()


def verify_signature(
    token: str,
    given: str | None,
    timestamp: str | None,
    nonce: str | None,
    *extra: str,
    now: float | None = None,
) -> None:
    """Raise SignatureError unless `given` signs (timestamp, nonce, *extra) and the timestamp is fresh."""
    if not given or not timestamp or not nonce:
        raise SignatureError("signature, timestamp and nonce are required")
    expected = signature(token, timestamp, nonce, *extra)
    if not hmac.compare_digest(expected.encode("ascii"), given.lower().encode("ascii", "replace")):
        raise SignatureError("signature does not match")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise SignatureError("timestamp is not a number") from None
    current = time.time() if now is None else now
    if abs(current - sent_at) > MAX_CLOCK_SKEW_SECONDS:
        raise SignatureError(f"timestamp is more than {MAX_CLOCK_SKEW_SECONDS} s away from the server clock")


def pkcs7_unpad(data: bytes, block_size: int = BLOCK_SIZE) -> bytes:
    """Remove PKCS#7 padding of a `block_size` block; every pad byte is checked."""
    if not data or len(data) % block_size:
        raise DecryptionError("ciphertext length is not a multiple of the block size")
    pad = data[-1]
    if not 1 <= pad <= block_size or data[-pad:] != bytes([pad]) * pad:
        raise DecryptionError("bad padding")
    return data[:-pad]


class MessageCipher:
    """AES-256-CBC with IV = key[:16]; plaintext = random(16) | len (4, big-endian) | msg | receive id."""

    def __init__(self, aes_key: bytes, receive_id: str) -> None:
        if len(aes_key) != 32:
            raise ValueError("the AES key must be 32 bytes")
        self.key = aes_key
        self.receive_id = receive_id

    def encrypt(self, plaintext: str) -> str:
        """Base64 ciphertext of `plaintext` for our receive id (wechatpy's encoder pads to 32)."""
        return PrpCrypto(self.key).encrypt(plaintext, self.receive_id).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        """The message inside `ciphertext`; raises DecryptionError or ReceiveIdError."""
        try:
            raw = base64.b64decode(ciphertext, validate=True)
        except (binascii.Error, ValueError):
            raise DecryptionError("ciphertext is not base64") from None
        if not raw or len(raw) % 16:
            raise DecryptionError("ciphertext length is not a multiple of the AES block")
        decryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).decryptor()
        plain = pkcs7_unpad(decryptor.update(raw) + decryptor.finalize())
        if len(plain) < 20:
            raise DecryptionError("plaintext too short")
        (length,) = struct.unpack(">I", plain[16:20])
        if 20 + length > len(plain):
            raise DecryptionError("message length exceeds the plaintext")
        message, receive_id = plain[20 : 20 + length], plain[20 + length :]
        if not hmac.compare_digest(receive_id, self.receive_id.encode("utf-8")):
            raise ReceiveIdError("ciphertext was made for another app id / corp id")
        try:
            return message.decode("utf-8")
        except UnicodeDecodeError:
            raise DecryptionError("message is not UTF-8") from None
