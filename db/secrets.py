"""Encryption at rest for API keys.

The key is KASAL_SECRET_KEY when set. Otherwise a key file is created once in the
data dir by the first process allowed to create it (the API, `kasal db upgrade`,
`kasal seed`); a process that needs it and cannot find it stops with a clear message
instead of inventing a new key that could not read the stored secrets.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

KEY_FILE_NAME = "secret.key"


class SecretKeyMissing(RuntimeError):
    pass


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)
        self._key = base64.urlsafe_b64decode(key)

    def derive(self, label: str) -> bytes:
        """A key of its own for ``label``'s purpose, HMAC-SHA256(instance key, label):
        the same on every process that holds the instance key, and telling nothing of it."""
        return hmac.new(self._key, label.encode(), hashlib.sha256).digest()

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise SecretKeyMissing(
                "a stored API key cannot be decrypted: KASAL_SECRET_KEY (or the key file) "
                "differs from the one it was encrypted with"
            ) from None


def load_secret_box(secret: str | None, data_dir: Path, *, create: bool) -> SecretBox:
    if secret:
        return SecretBox(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()))
    path = data_dir / KEY_FILE_NAME
    if not path.exists():
        if not create:
            raise SecretKeyMissing(
                f"no secret key: KASAL_SECRET_KEY is unset and {path} does not exist. "
                "Start the API or run `kasal db upgrade` once with this KASAL_DATA_DIR, "
                "or set KASAL_SECRET_KEY."
            )
        _create_key_file(path)
    return SecretBox(path.read_bytes().strip())


def _create_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: when two processes race, one creates the key and the other reads it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as key_file:
        key_file.write(Fernet.generate_key())
