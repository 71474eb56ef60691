"""The Zerodha session on disk: one JSON file, owner-only (0600), written atomically.

The access token is the key to real money, so a file another user could read is
refused (never silently used) and a file that does not parse says so, instead of
quietly meaning "not logged in".
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path

from engine.zerodha.session import LoginError, SessionInfo

OWNER_ONLY = 0o600


class TokenFileError(LoginError):
    """The token file exists but must not be used: readable by others, or corrupt."""


class FileTokenStore:
    """Implements ``engine.zerodha.session.TokenStore`` in ``{home}/zerodha_token.json``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> SessionInfo | None:
        """The stored session; None when there is no file. Raises ``TokenFileError``."""
        try:
            status = self.path.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise TokenFileError(f"cannot read token file {self.path}: {exc.strerror}") from None
        self._require_owner_only(status)
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return SessionInfo(
                user_id=str(data["user_id"]),
                user_name=str(data["user_name"]),
                login_ts=int(data["login_ts"]),
                expires_ts=int(data["expires_ts"]),
                access_token=_text(data["access_token"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise TokenFileError(
                f"token file {self.path} is corrupt: {_reason(exc)}; log in again"
            ) from None

    def _require_owner_only(self, status: os.stat_result) -> None:
        mode = stat.S_IMODE(status.st_mode)
        if mode & 0o077 or status.st_uid != os.getuid():
            raise TokenFileError(
                f"token file {self.path} is not owner-only (mode {mode:04o}): "
                f"another user may have read the access token; run `chmod 600 {self.path}` "
                "if it is yours, or `alphapanda login` again"
            )

    def save(self, info: SessionInfo) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        payload = json.dumps(
            {
                "user_id": info.user_id,
                "user_name": info.user_name,
                "login_ts": info.login_ts,
                "expires_ts": info.expires_ts,
                "access_token": info.access_token,
            }
        )
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".token-")
        try:
            os.fchmod(fd, OWNER_ONLY)
            with os.fdopen(fd, "w") as handle:
                handle.write(payload)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("access_token is not a string")
    return value


def _reason(exc: Exception) -> str:
    """A short cause that never quotes the file's content (it may hold the token)."""
    if isinstance(exc, KeyError):
        return f"field {exc.args[0]!r} is missing"
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON ({exc.msg} at line {exc.lineno})"
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    if isinstance(exc, ValueError) and "access_token" in str(exc):
        return str(exc)
    return "a field has the wrong type or value"
