"""Encryption at rest for narrative fields: one key ring, used by one column type.

The key comes from `FLOURISH_SECRET_KEY` (one or more comma-separated Fernet keys, newest first, so
keys can be rotated) or from `secret.key` in the data directory (one key a line, newest first).
A key is never generated here: `storage/keys.py` creates the key file only for a database that
holds no encrypted data yet, and checks every key against the database before anything is written.
"""

from __future__ import annotations

import binascii
import os
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from storage.config import get_config

KEY_FILE_NAME = "secret.key"


class DecryptionError(RuntimeError):
    """A stored value could not be decrypted with any configured key."""


class KeyProblem(RuntimeError):
    """The encryption key is missing, malformed or not the database's; the message is one line."""


class MissingKey(KeyProblem):
    """No key is configured: no `FLOURISH_SECRET_KEY` and no key file."""


def key_file_path() -> Path:
    """Where the key file lives (used when `FLOURISH_SECRET_KEY` is not set)."""
    return get_config().flourish_data_dir.resolve() / KEY_FILE_NAME


def make_private_dir(path: Path) -> None:
    """Create a directory (and its parents) readable by its owner only."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def create_key_file() -> Path:
    """Write a new key to the key file, owner-only; refuses if the file exists."""
    path = key_file_path()
    make_private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(Fernet.generate_key() + b"\n")
    key_ring.cache_clear()
    return path


def _raw_keys() -> tuple[list[str], str]:
    """The configured keys, newest first, and where they came from (for messages)."""
    config = get_config()
    if config.flourish_secret_key is not None:
        text = config.flourish_secret_key.get_secret_value().replace(",", "\n")
        source = "FLOURISH_SECRET_KEY"
    else:
        path = key_file_path()
        try:
            text, source = path.read_text(encoding="ascii"), str(path)
        except FileNotFoundError:
            raise MissingKey(f"No encryption key: FLOURISH_SECRET_KEY is not set and {path} "
                             "does not exist.") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyProblem(f"Cannot read the key file {path}: {type(exc).__name__}.") from None
    keys = [line.strip() for line in text.splitlines() if line.strip()]
    if not keys:
        raise KeyProblem(f"The encryption key in {source} is empty.")
    return keys, source


def fernet_keys() -> tuple[Fernet, ...]:
    """The Fernet keys in force, newest (the one that encrypts) first."""
    keys, source = _raw_keys()
    fernets = []
    for number, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.encode("ascii")))
        except (ValueError, binascii.Error, UnicodeEncodeError):
            raise KeyProblem(
                f"Key {number} of {len(keys)} in {source} is not a valid key: each key is 44 "
                "characters of URL-safe base64, as `flourish admin new-key` prints.") from None
    return tuple(fernets)


def secret_keys() -> list[bytes]:
    """The configured keys themselves, newest first (validated), to derive other secrets from."""
    fernet_keys()
    return [key.encode("ascii") for key in _raw_keys()[0]]


@lru_cache
def key_ring() -> MultiFernet:
    """The Fernet keys in force: encrypt with the first, decrypt with any."""
    return MultiFernet(list(fernet_keys()))


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
