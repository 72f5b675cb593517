"""Keys that cannot strand the data: a key check in the database, and re-encryption under a new key.

A missing key file used to be replaced silently by a new key, and rows written under it could no
longer be read together with the old ones. Now the database holds a constant encrypted under the
key its data is written with (`KeyCheck`); `ensure_key` runs before any command touches the data
and refuses, in one line, to go on with a key that cannot read it. A key is generated only for a
database with no encrypted data at all. `rotate_keys` re-encrypts every encrypted column under the
newest key in committed batches, so a run that is interrupted is simply run again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from storage.crypto import KeyProblem, MissingKey, create_key_file, fernet_keys, key_file_path
from storage.models import KeyCheck
from storage.types import EncryptedText, utcnow

CHECK_PLAIN = b"flourish key check"
KEYCHECK: sa.Table = KeyCheck.__table__  # type: ignore[attr-defined]


@dataclass
class Rotation:
    """What a rotation did: values re-encrypted, and values already under the newest key."""

    rotated: int = 0
    already: int = 0


def encrypted_columns() -> list[tuple[sa.Table, sa.Column[str]]]:
    """Every column stored through `EncryptedText`, table by table."""
    return [(table, column) for table in SQLModel.metadata.sorted_tables
            for column in table.columns if isinstance(column.type, EncryptedText)]


def _raw(column: sa.Column[str]) -> sa.ColumnElement[str]:
    """The stored ciphertext of a column, without decrypting it."""
    return sa.type_coerce(column, sa.Text())


def _opens(keys: Sequence[Fernet], token: str) -> bool:
    try:
        MultiFernet(list(keys)).decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError):
        return False
    return True


def _sample_token(conn: Connection) -> str | None:
    """One stored encrypted value, if the database holds any."""
    for table, column in encrypted_columns():
        token = conn.execute(sa.select(_raw(column)).select_from(table)
                             .where(column.is_not(None)).limit(1)).scalar()
        if token is not None:
            return str(token)
    return None


def _mismatch() -> KeyProblem:
    return KeyProblem(
        "The encryption key does not match this database: its records were written under another "
        f"key. Set FLOURISH_SECRET_KEY (or {key_file_path()}) to the key they were written with; "
        "nothing was written.")


def ensure_key(engine: Engine) -> None:
    """Refuse, in one line, a key that cannot read this database; create a key for a new one."""
    with engine.begin() as conn:
        check = conn.execute(sa.select(KEYCHECK.c.token).where(KEYCHECK.c.id == 1)).scalar()
        sample = None if check is not None else _sample_token(conn)
        try:
            keys = fernet_keys()
        except MissingKey as exc:
            if check is not None or sample is not None:
                raise MissingKey(f"{exc} This database holds encrypted records: restore the key "
                                 "they were written with; nothing was written.") from None
            create_key_file()
            keys = fernet_keys()
        if check is not None:
            if not _opens(keys, check):
                raise _mismatch()
            return
        if sample is not None and not _opens(keys, sample):
            raise _mismatch()
        conn.execute(sa.insert(KEYCHECK).values(
            id=1, token=keys[0].encrypt(CHECK_PLAIN).decode("ascii"), created_at=utcnow()))


def rotate_keys(engine: Engine, *, batch_size: int = 500,
                on_value: Callable[[], None] | None = None) -> Rotation:
    """Re-encrypt every encrypted value under the newest configured key, then the key check."""
    ensure_key(engine)
    keys = fernet_keys()
    newest, ring = keys[0], MultiFernet(list(keys))
    done = Rotation()
    for table, column in encrypted_columns():
        (key_column,) = table.primary_key.columns
        last = None
        while True:
            statement = (sa.select(key_column, _raw(column)).where(column.is_not(None))
                         .order_by(key_column).limit(batch_size))
            if last is not None:
                statement = statement.where(key_column > last)
            with engine.begin() as conn:
                rows = conn.execute(statement).all()
                for row_id, token in rows:
                    last = row_id
                    if _opens([newest], token):
                        done.already += 1
                        continue
                    try:
                        plain = ring.decrypt(token.encode("ascii"))
                    except InvalidToken:
                        raise KeyProblem(f"{table.name}.{column.name} of row {row_id} cannot be "
                                         "decrypted with any configured key.") from None
                    new = newest.encrypt(plain).decode("ascii")
                    conn.execute(sa.update(table).where(key_column == row_id)
                                 .values({column.name: sa.literal(new, sa.Text())}))
                    done.rotated += 1
                    if on_value is not None:
                        on_value()
            if len(rows) < batch_size:
                break
    with engine.begin() as conn:
        conn.execute(sa.update(KEYCHECK).where(KEYCHECK.c.id == 1).values(
            token=newest.encrypt(CHECK_PLAIN).decode("ascii"), rotated_at=utcnow()))
    return done
