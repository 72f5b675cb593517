"""Encryption at rest for narrative fields: one key ring, used by one column type.

The key comes from `FLOURISH_SECRET_KEY` (one or more comma-separated Fernet keys, newest first, so
keys can be rotated); without it a key is generated once into the data directory with owner-only
permissions, so a fresh install is encrypted from its first row.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from storage.config import get_config

KEY_FILE_NAME = "secret.key"


class DecryptionError(RuntimeError):
    """A stored value could not be decrypted with any configured key."""


def _key_file_key(data_dir: Path) -> bytes:
    path = data_dir / KEY_FILE_NAME
    if path.exists():
        return path.read_bytes().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


@lru_cache
def key_ring() -> MultiFernet:
    """The Fernet keys in force: encrypt with the first, decrypt with any."""
    config = get_config()
    if config.flourish_secret_key is not None:
        raw = [k.strip().encode() for k in config.flourish_secret_key.get_secret_value().split(",")]
        keys = [k for k in raw if k]
    else:
        keys = [_key_file_key(config.flourish_data_dir)]
    return MultiFernet([Fernet(k) for k in keys])


def encrypt_text(plain: str) -> str:
    """Encrypt a string for storage."""
    return key_ring().encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt_text(token: str) -> str:
    """Decrypt a stored string."""
    try:
        return key_ring().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise DecryptionError("stored text cannot be decrypted with the configured keys") from exc


def new_key() -> str:
    """A fresh key, for `flourish admin new-key`."""
    return Fernet.generate_key().decode("ascii")
