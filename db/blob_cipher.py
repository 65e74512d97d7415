"""Blobs at rest: AES-256-GCM under a key derived from the instance's secret key.

What the ``blobs`` table holds is encrypted when the store has a cipher (the API and the
worker always pass one): a text blob (an output, a transcript) as ``kasal-enc:v1:`` and
base64(nonce | ciphertext), a payload blob's bytes as ``kasal-enc:v1:`` and the raw nonce
| ciphertext. The associated data binds the blob's kind and run id, so a row moved to
another run, or relabelled, fails to open; copying a blob to another run (a fork)
re-encrypts it for that run (db/blobs.py).

Reading: a marked value is decrypted; an unmarked one is returned as is, so blobs written
before encryption stay readable. A store without a cipher that meets a marked value, or a
cipher whose key differs, raises :class:`BlobUnreadable`.

The key is HMAC-SHA256(instance key, "blobs") (:meth:`db.secrets.SecretBox.derive`): it
changes with ``KASAL_SECRET_KEY`` (or the key file), and blobs written under another key
no longer open.
"""

from __future__ import annotations

import base64
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from db.secrets import SecretBox

KEY_LABEL = "blobs"
TEXT_MARK = "kasal-enc:v1:"
BYTES_MARK = TEXT_MARK.encode()
_NONCE_BYTES = 12


class BlobUnreadable(RuntimeError):
    """A blob is encrypted and cannot be opened here: no key, or another key."""


def _associated_data(kind: str, run_id: str) -> bytes:
    # JSON, not a separator: no kind or run id can be made to read as another pair.
    return json.dumps(["kasal-blob", kind, run_id]).encode()


class BlobCipher:
    """AES-256-GCM over blob contents, bound to each blob's kind and run id."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("a blob key is 32 bytes (AES-256)")
        self._aead = AESGCM(key)

    @classmethod
    def of(cls, secrets: SecretBox) -> BlobCipher:
        """The instance's blob cipher: the same on every process with the same secret key."""
        return cls(secrets.derive(KEY_LABEL))

    def seal(self, data: bytes, *, kind: str, run_id: str) -> bytes:
        """``data`` encrypted for a blob of ``kind`` in ``run_id``, marked."""
        nonce = os.urandom(_NONCE_BYTES)
        return BYTES_MARK + nonce + self._aead.encrypt(nonce, data, _associated_data(kind, run_id))

    def seal_text(self, text: str, *, kind: str, run_id: str) -> str:
        sealed = self.seal(text.encode(), kind=kind, run_id=run_id)[len(BYTES_MARK) :]
        return TEXT_MARK + base64.b64encode(sealed).decode()

    def open(self, stored: bytes, *, kind: str, run_id: str) -> bytes:
        """The plaintext of a marked value (see :func:`open_bytes` for unmarked ones)."""
        sealed = stored[len(BYTES_MARK) :]
        nonce, ciphertext = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, ciphertext, _associated_data(kind, run_id))
        except InvalidTag:
            raise BlobUnreadable(
                f"a {kind} blob of run {run_id!r} does not decrypt: it was encrypted with "
                "another secret key (KASAL_SECRET_KEY or the key file changed), for another "
                "run, or it was altered"
            ) from None


def _no_key(kind: str, run_id: str) -> BlobUnreadable:
    return BlobUnreadable(
        f"a {kind} blob of run {run_id!r} is encrypted, and this blob store has no key: "
        "build it with BlobStore(sessions, cipher=BlobCipher.of(secret_box))"
    )


def open_bytes(cipher: BlobCipher | None, stored: bytes, *, kind: str, run_id: str) -> bytes:
    """A stored payload's bytes: decrypted when marked, as is when not (older blobs)."""
    if not stored.startswith(BYTES_MARK):
        return stored
    if cipher is None:
        raise _no_key(kind, run_id)
    return cipher.open(stored, kind=kind, run_id=run_id)


def open_text(cipher: BlobCipher | None, stored: str, *, kind: str, run_id: str) -> str:
    """A stored text blob's content: decrypted when marked, as is when not (older blobs)."""
    if not stored.startswith(TEXT_MARK):
        return stored
    if cipher is None:
        raise _no_key(kind, run_id)
    try:
        sealed = base64.b64decode(stored[len(TEXT_MARK) :], validate=True)
    except ValueError:
        raise BlobUnreadable(f"a {kind} blob of run {run_id!r} is marked but malformed") from None
    return cipher.open(BYTES_MARK + sealed, kind=kind, run_id=run_id).decode()
