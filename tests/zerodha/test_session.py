"""Login, token storage and expiry against the loopback Kite server with the real client."""

from __future__ import annotations

import stat
from datetime import datetime

import pytest

from engine.clock import IST, ManualClock, datetime_to_ns
from engine.zerodha.session import LoginError, ZerodhaSession, next_expiry, parse_request_token
from storage.token_store import FileTokenStore
from tests.kite_fake.server import FakeKite

pytestmark = pytest.mark.kite


def _ist(*args: int) -> int:
    return datetime_to_ns(datetime(*args, tzinfo=IST))


def _session(fake: FakeKite, tmp_path, clock: ManualClock) -> ZerodhaSession:
    return ZerodhaSession(
        api_key=fake.state.api_key,
        api_secret=fake.state.api_secret,
        api_root=fake.api_root,
        login_url=f"{fake.api_root}/connect/login",
        token_store=FileTokenStore(tmp_path / "zerodha_token.json"),
        clock=clock,
    )


def test_expiry_is_the_next_six_am_in_kolkata() -> None:
    assert next_expiry(_ist(2026, 11, 24, 9, 10)) == _ist(2026, 11, 25, 6, 0)
    assert next_expiry(_ist(2026, 11, 24, 5, 59)) == _ist(2026, 11, 24, 6, 0)
    assert next_expiry(_ist(2026, 11, 24, 6, 0)) == _ist(2026, 11, 25, 6, 0)


@pytest.mark.parametrize(
    "pasted",
    [
        "https://example.com/cb?request_token=AbC123xyz&action=login&status=success",
        "  AbC123xyz  ",
        "/cb?status=success&request_token=AbC123xyz",
    ],
)
def test_redirect_url_or_bare_token_is_accepted(pasted: str) -> None:
    assert parse_request_token(pasted) == "AbC123xyz"


@pytest.mark.parametrize(
    ("pasted", "why"),
    [
        ("https://example.com/cb?action=login&status=success", "no request_token"),
        ("https://example.com/cb?request_token=abc123&status=cancelled", "status"),
        ("abc 123!", "does not look like"),
        ("", "paste"),
    ],
)
def test_bad_paste_is_a_clear_error(pasted: str, why: str) -> None:
    with pytest.raises(LoginError, match=why):
        parse_request_token(pasted)


async def test_login_stores_the_token_owner_only_and_survives_restart(
    fake_kite: FakeKite, tmp_path
) -> None:
    clock = ManualClock(_ist(2026, 11, 24, 8, 55))
    session = _session(fake_kite, tmp_path, clock)
    fake_kite.state.issue_request_token("reqtok42")
    info = await session.exchange("http://127.0.0.1/cb?request_token=reqtok42&status=success")
    assert info.user_name == "Asha Trader"
    assert info.expires_ts == _ist(2026, 11, 25, 6, 0)
    assert "access_token" not in repr(info) and info.access_token not in repr(info)
    path = tmp_path / "zerodha_token.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = _session(fake_kite, tmp_path, clock)
    assert again.info is not None and again.info.user_id == "AB1234"
    assert again.client().profile()["user_id"] == "AB1234"


async def test_reused_request_token_fails_with_advice(fake_kite: FakeKite, tmp_path) -> None:
    session = _session(fake_kite, tmp_path, ManualClock(_ist(2026, 11, 24, 9, 0)))
    fake_kite.state.issue_request_token("once12345")
    await session.exchange("once12345")
    with pytest.raises(LoginError, match="open the login URL again"):
        await session.exchange("once12345")


async def test_expiry_at_six_and_token_exception_end_the_session(
    fake_kite: FakeKite, tmp_path
) -> None:
    clock = ManualClock(_ist(2026, 11, 24, 9, 0))
    session = _session(fake_kite, tmp_path, clock)
    reasons: list[str] = []
    session.on_expired(reasons.append)
    fake_kite.state.issue_request_token("tok111111")
    await session.exchange("tok111111")
    clock.set_ns(_ist(2026, 11, 25, 6, 0))
    assert session.info is None and "06:00" in reasons[-1]
    assert not (tmp_path / "zerodha_token.json").exists()

    clock.set_ns(_ist(2026, 11, 25, 9, 0))
    fake_kite.state.issue_request_token("tok222222")
    await session.exchange("tok222222")
    kite = session.client()
    fake_kite.state.invalidate_all_tokens()  # the user logged in elsewhere
    with pytest.raises(Exception, match="access_token"):
        kite.orders()
    assert session.info is None and "rejected the token" in reasons[-1]


async def test_logout_invalidates_at_zerodha(fake_kite: FakeKite, tmp_path) -> None:
    session = _session(fake_kite, tmp_path, ManualClock(_ist(2026, 11, 24, 9, 0)))
    fake_kite.state.issue_request_token("tok333333")
    info = await session.exchange("tok333333")
    await session.logout()
    assert info.access_token not in fake_kite.state.access_tokens
    assert session.info is None
