"""The Zerodha session on disk: one JSON file, owner-only (0600), written atomically."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from engine.zerodha.session import SessionInfo


class FileTokenStore:
    """Implements ``engine.zerodha.session.TokenStore`` in ``{home}/zerodha_token.json``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> SessionInfo | None:
        try:
            data = json.loads(self.path.read_text())
            return SessionInfo(
                user_id=data["user_id"],
                user_name=data["user_name"],
                login_ts=int(data["login_ts"]),
                expires_ts=int(data["expires_ts"]),
                access_token=data["access_token"],
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

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
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(payload)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
