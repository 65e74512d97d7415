"""Payload encryption: Temporal keeps only ciphertext of what runs carry.

On when ``KASAL_PAYLOAD_ENCRYPTION_KEY`` (base64 of 32 bytes) is set: every payload the
client, the worker and the workflows send (run inputs, step results, queries, updates,
signals, summaries, failures' messages) is sealed with AES-256-GCM before it leaves the
process. Temporal's database and the blob store then hold ciphertext only.

- **Order.** The SDK applies the codec *before* its external storage
  (``DataConverter.encode``: codec, then store), so the claim-check of
  db/payload_store.py stores ciphertext, and the history holds either ciphertext or a
  reference (a blob id and a digest, no content).
- **Key ids.** Each sealed payload names its key (``encryption-key-id``: the first 8 hex
  digits of sha256(key)) so keys can rotate: the current key seals, and it and the keys
  in ``KASAL_PAYLOAD_DECRYPTION_KEYS`` open. A payload sealed with a key not configured
  fails with :class:`UnknownPayloadKey`, which names the key id.
- **Plain payloads still open.** A payload without the encrypted encoding passes through,
  so runs started before encryption was switched on stay readable.
- **Deterministic nonce.** The nonce is an HMAC of the plaintext under a key derived from
  the encryption key (the SIV construction), not random. The claim-check addresses
  payloads by their bytes: a random nonce would store a new blob every time the same
  large status query is answered. A repeated nonce here always means a repeated
  plaintext, which is what makes GCM's nonce reuse harmless; what it reveals is only
  that two payloads are equal, which content addressing reveals anyway.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
KEY_BYTES = 32
NONCE_BYTES = 12


class PayloadKeyError(ValueError):
    """A configured key is not base64 of 32 bytes."""


class UnknownPayloadKey(LookupError):
    """A payload was sealed with a key this process does not have, or was altered."""


def key_id(key: bytes) -> str:
    """The id a sealed payload carries for its key; reveals nothing usable of the key."""
    return hashlib.sha256(key).hexdigest()[:8]


def parse_key(text: str, setting: str) -> bytes:
    """A key from its base64 text (standard or URL-safe alphabet)."""
    cleaned = text.strip()
    try:
        key = base64.b64decode(
            cleaned.replace("-", "+").replace("_", "/") + "=" * (-len(cleaned) % 4),
            validate=True,
        )
    except (binascii.Error, ValueError):
        raise PayloadKeyError(f"{setting} is not base64") from None
    if len(key) != KEY_BYTES:
        raise PayloadKeyError(
            f"{setting} must be base64 of {KEY_BYTES} bytes, not {len(key)} "
            "(make one with `openssl rand -base64 32`)"
        )
    return key


class _Key:
    """One key, ready to seal and open: the AEAD, and the HMAC key that derives nonces."""

    def __init__(self, key: bytes) -> None:
        self.id = key_id(key)
        self.aead = AESGCM(key)
        self.nonce_key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"kasal payload nonce"
        ).derive(key)

    def seal(self, plaintext: bytes) -> bytes:
        nonce = hmac.digest(self.nonce_key, plaintext, "sha256")[:NONCE_BYTES]
        # The key id is authenticated too: a payload cannot be relabelled.
        return nonce + self.aead.encrypt(nonce, plaintext, self.id.encode())

    def open(self, sealed: bytes) -> bytes:
        nonce, ciphertext = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
        return self.aead.decrypt(nonce, ciphertext, self.id.encode())


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM over whole payloads (metadata and data), with key ids for rotation."""

    def __init__(self, key: bytes, old_keys: Iterable[bytes] = ()) -> None:
        self._current = _Key(key)
        self._keys = {self._current.id: self._current}
        for old in old_keys:
            prepared = _Key(old)
            self._keys.setdefault(prepared.id, prepared)

    @property
    def key_id(self) -> str:
        """The id of the key new payloads are sealed with."""
        return self._current.id

    @property
    def key_ids(self) -> list[str]:
        """Every key id this codec opens."""
        return list(self._keys)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.seal(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.open(payload) for payload in payloads]

    def seal(self, payload: Payload) -> Payload:
        # Deterministic serialisation: equal payloads seal to equal bytes (see above).
        plaintext = payload.SerializeToString(deterministic=True)
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID_METADATA: self._current.id.encode()},
            data=self._current.seal(plaintext),
        )

    def open(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        kid = payload.metadata.get(KEY_ID_METADATA, b"").decode(errors="replace")
        key = self._keys.get(kid)
        if key is None:
            raise UnknownPayloadKey(
                f"a payload is encrypted with key id {kid!r}, which is neither "
                "KASAL_PAYLOAD_ENCRYPTION_KEY nor one of KASAL_PAYLOAD_DECRYPTION_KEYS "
                f"(this process has key ids {', '.join(self._keys)})"
            )
        try:
            plaintext = key.open(payload.data)
        except InvalidTag:
            raise UnknownPayloadKey(
                f"a payload encrypted with key id {kid!r} does not authenticate: "
                "it was altered, or another key has the same id"
            ) from None
        opened = Payload()
        opened.ParseFromString(plaintext)
        return opened


def encryption_codec(key: str | None, old_keys: str = "") -> EncryptionCodec | None:
    """The codec the settings ask for: None when no encryption key is set."""
    if not key:
        return None
    old = [
        parse_key(text, "KASAL_PAYLOAD_DECRYPTION_KEYS")
        for text in old_keys.split(",")
        if text.strip()
    ]
    return EncryptionCodec(parse_key(key, "KASAL_PAYLOAD_ENCRYPTION_KEY"), old)
