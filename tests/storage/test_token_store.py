"""The token file: owner-only or refused, corrupt said in words, never quoted back."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from engine.zerodha.session import SessionInfo
from storage.token_store import FileTokenStore, TokenFileError

SESSION = SessionInfo(
    user_id="AB1234",
    user_name="Asha",
    login_ts=1_700_000_000_000_000_000,
    expires_ts=1_700_050_000_000_000_000,
    access_token="acc3ssTok3nSecret",
)


def _saved(tmp_path: Path) -> FileTokenStore:
    store = FileTokenStore(tmp_path / "zerodha_token.json")
    store.save(SESSION)
    return store


def test_a_saved_session_is_owner_only_and_loads_back(tmp_path: Path) -> None:
    store = _saved(tmp_path)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert store.load() == SESSION


def test_no_file_means_not_logged_in(tmp_path: Path) -> None:
    assert FileTokenStore(tmp_path / "absent.json").load() is None


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_file_others_can_read_is_refused_not_used(tmp_path: Path, mode: int) -> None:
    store = _saved(tmp_path)
    os.chmod(store.path, mode)
    with pytest.raises(TokenFileError) as caught:
        store.load()
    message = str(caught.value)
    assert f"mode {mode:04o}" in message and "not owner-only" in message
    assert str(store.path) in message and "\n" not in message
    assert SESSION.access_token not in message
    assert stat.S_IMODE(store.path.stat().st_mode) == mode  # refused, not silently changed


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"user_id": "AB1234", "access_token": "acc3ss', "not JSON"),
        ('{"user_id": "AB1234", "access_token": "acc3ss"}', "field 'user_name' is missing"),
        ("[1, 2, 3]", "wrong type"),
        ("", "not JSON"),
    ],
)
def test_a_corrupt_file_says_so_and_asks_for_a_new_login(
    tmp_path: Path, content: str, reason: str
) -> None:
    store = _saved(tmp_path)
    store.path.write_text(content)
    with pytest.raises(TokenFileError) as caught:
        store.load()
    message = str(caught.value)
    assert message.startswith(f"token file {store.path} is corrupt: ")
    assert reason in message and message.endswith("log in again")
    assert "acc3ss" not in message  # the file's content is never echoed


def test_a_binary_file_is_corrupt_not_a_crash(tmp_path: Path) -> None:
    store = _saved(tmp_path)
    store.path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(TokenFileError, match="is corrupt: not UTF-8 text"):
        store.load()


def test_a_wrong_expiry_type_is_corrupt(tmp_path: Path) -> None:
    store = _saved(tmp_path)
    data = json.loads(store.path.read_text())
    data["expires_ts"] = "tomorrow"
    store.path.write_text(json.dumps(data))
    with pytest.raises(TokenFileError, match="is corrupt: a field has the wrong type or value"):
        store.load()
