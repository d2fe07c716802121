"""Properties of the message cipher and the signatures (bot/channels/crypto.py)."""
from __future__ import annotations

import base64

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.channels.crypto import (
    MAX_CLOCK_SKEW_SECONDS,
    DecryptionError,
    MessageCipher,
    ReceiveIdError,
    SignatureError,
    signature,
    verify_signature,
)

KEYS = st.binary(min_size=32, max_size=32)
# Anything that can be encoded: user texts, XML, appids and corpids.
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
RECEIVE_IDS = st.one_of(st.from_regex(r"wx[0-9a-f]{16}", fullmatch=True), TEXT)
TIMESTAMPS = st.integers(min_value=1_000_000_000, max_value=4_000_000_000)
# The tokens and nonces query strings carry (Sanic decodes them, so no lone surrogates).
QUERY = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)


def refused_or_read(cipher: MessageCipher, ciphertext: str) -> str | None:
    """The text decrypted, or None when refused with one of the module's errors (anything else fails)."""
    try:
        return cipher.decrypt(ciphertext)
    except (DecryptionError, ReceiveIdError):
        return None


@given(KEYS, RECEIVE_IDS, TEXT)
def test_what_is_encrypted_decrypts_to_the_same_text(key, receive_id, text):
    cipher = MessageCipher(key, receive_id)
    assert cipher.decrypt(cipher.encrypt(text)) == text


@given(KEYS, RECEIVE_IDS, RECEIVE_IDS, TEXT)
def test_a_ciphertext_for_another_receive_id_is_refused_as_such(key, ours, theirs, text):
    assume(ours != theirs)
    with pytest.raises(ReceiveIdError):
        MessageCipher(key, ours).decrypt(MessageCipher(key, theirs).encrypt(text))


@given(KEYS, RECEIVE_IDS, TEXT, st.data())
def test_a_tampered_ciphertext_is_refused_or_reads_as_another_text(key, receive_id, text, data):
    cipher = MessageCipher(key, receive_id)
    raw = bytearray(base64.b64decode(cipher.encrypt(text)))
    position = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
    raw[position] ^= data.draw(st.integers(min_value=1, max_value=255))
    # CBC without a MAC: a changed block may still decrypt, but never to the message that was sent.
    assert refused_or_read(cipher, base64.b64encode(bytes(raw)).decode()) != text


@given(KEYS, RECEIVE_IDS, TEXT, st.data())
def test_a_truncated_or_extended_ciphertext_is_refused(key, receive_id, text, data):
    cipher = MessageCipher(key, receive_id)
    raw = base64.b64decode(cipher.encrypt(text))
    cut = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
    extra = data.draw(st.binary(min_size=1, max_size=48))
    for changed in (raw[:cut], raw + extra):
        assert refused_or_read(cipher, base64.b64encode(changed).decode()) is None


@given(KEYS, KEYS, RECEIVE_IDS, TEXT)
def test_a_ciphertext_made_with_another_key_is_refused(key, other_key, receive_id, text):
    assume(key != other_key)
    ciphertext = MessageCipher(other_key, receive_id).encrypt(text)
    assert refused_or_read(MessageCipher(key, receive_id), ciphertext) is None


@given(KEYS, st.one_of(TEXT, st.binary(max_size=200).map(lambda b: b.decode("latin-1"))))
def test_any_string_given_as_ciphertext_is_refused_with_the_modules_errors_only(key, ciphertext):
    refused_or_read(MessageCipher(key, "wx0000000000000000"), ciphertext)


@given(QUERY, TIMESTAMPS, QUERY, st.lists(TEXT, max_size=2), st.integers(-MAX_CLOCK_SKEW_SECONDS, MAX_CLOCK_SKEW_SECONDS))
def test_a_signature_made_with_the_token_verifies_within_the_window(token, timestamp, nonce, extra, skew):
    given_signature = signature(token, str(timestamp), nonce, *extra)
    verify_signature(token, given_signature, str(timestamp), nonce, *extra, now=timestamp + skew)
    verify_signature(token, given_signature.upper(), str(timestamp), nonce, *extra, now=timestamp + skew)


@given(QUERY, QUERY, TIMESTAMPS, QUERY, TEXT)
def test_a_signature_made_with_another_token_is_refused(token, other_token, timestamp, nonce, body):
    assume(token != other_token)
    forged = signature(other_token, str(timestamp), nonce, body)
    with pytest.raises(SignatureError):
        verify_signature(token, forged, str(timestamp), nonce, body, now=timestamp)


@given(QUERY, TIMESTAMPS, QUERY, TEXT, TEXT)
def test_a_signature_over_another_body_is_refused(token, timestamp, nonce, body, other_body):
    assume(sorted([token, str(timestamp), nonce, body]) != sorted([token, str(timestamp), nonce, other_body]))
    given_signature = signature(token, str(timestamp), nonce, body)
    with pytest.raises(SignatureError):
        verify_signature(token, given_signature, str(timestamp), nonce, other_body, now=timestamp)


@given(QUERY, TIMESTAMPS, QUERY, st.integers(min_value=MAX_CLOCK_SKEW_SECONDS + 1, max_value=10**6), st.booleans())
def test_a_stale_or_future_signature_is_refused(token, timestamp, nonce, skew, future):
    given_signature = signature(token, str(timestamp), nonce)
    with pytest.raises(SignatureError):
        verify_signature(token, given_signature, str(timestamp), nonce, now=timestamp + (-skew if future else skew))


@given(QUERY, st.one_of(st.none(), TEXT), st.one_of(st.none(), TEXT), st.one_of(st.none(), TEXT))
def test_any_signature_timestamp_and_nonce_are_refused_with_signature_error_only(token, given, timestamp, nonce):
    try:
        verify_signature(token, given, timestamp, nonce, now=1_700_000_000)
    except SignatureError:
        return
    # Accepted only when it is the real signature of a fresh timestamp.
    assert given.lower() == signature(token, timestamp, nonce)
