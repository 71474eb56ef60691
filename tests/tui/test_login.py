"""Live mode in the console: the login modal, the session ending, the pre-trading checks.

A real live ``EngineRuntime`` (memory bus and store, no ticker) against the loopback Kite
with the real ``KiteConnect`` client; the trader presses real keys.
"""

from __future__ import annotations

import pytest
from textual.widgets import Button

from alphapanda_tui.app import make_app
from engine.clock import NS_PER_S
from engine.events.types import TradingMode
from engine.prechecks import NotReadyForLive
from engine.zerodha.venue import ZerodhaVenue
from screens.login import LoginScreen
from screens.prechecks import PrecheckScreen
from tests.helpers import eventually
from tests.kite_fake.server import FakeKite
from tests.tui.harness import BusHarness
from tests.tui.live_console import LiveConsole
from tests.zerodha.live_runtime_support import send_signal

pytestmark = pytest.mark.kite


async def test_login_modal_logs_in_from_the_pasted_redirect_without_showing_the_token(
    logged_out: LiveConsole, fake_kite: FakeKite
) -> None:
    c = logged_out
    # not logged in: the console asks at once, and trading is halted with the reason
    await eventually(lambda: isinstance(c.app.screen, LoginScreen), message="no login modal")
    await eventually(  # the header draws on the console's next refresh
        lambda: "not logged in to Zerodha" in c.header() and "HALTED" in c.header(),
        message="header without the halt reason",
    )
    await eventually(lambda: "/connect/login?v=3&api_key=testkey" in c.screen_text())

    await c.paste("not a token!")
    await eventually(lambda: "does not look like a request_token" in c.status())
    await c.paste("reqtokNeverIssued")  # expired, used, or from yesterday
    await eventually(lambda: "Zerodha refused the request token" in c.status(), timeout=10)
    assert isinstance(c.app.screen, LoginScreen)  # still there for another try

    fake_kite.state.issue_request_token("reqtokGood1")
    await c.paste(
        "https://trader.example/cb?action=login&type=login&status=success&request_token=reqtokGood1"
    )
    await eventually(lambda: "Logged in as Asha Trader" in c.status(), timeout=10)
    assert "AB1234" in c.status() and "06:00 IST" in c.status()
    [access_token] = fake_kite.state.access_tokens
    assert access_token not in c.screen_text() and "reqtokGood1" not in c.screen_text()

    await c.pilot.press("escape")
    await eventually(lambda: not isinstance(c.app.screen, LoginScreen))
    c.app.refresh_from_model(True)
    await eventually(lambda: "Asha Trader" in c.header(), message=c.header())
    assert c.mode() is TradingMode.HALTED  # logging in never resumes trading
    assert access_token not in c.header()


async def test_session_killed_mid_session_halts_and_opens_the_login_modal(
    logged_in: LiveConsole, fake_kite: FakeKite
) -> None:
    c = logged_in
    assert not isinstance(c.app.screen, LoginScreen)
    assert c.runtime.pipeline is not None and isinstance(c.runtime.venue, ZerodhaVenue)
    await eventually(lambda: not c.runtime.venue.busy)
    await c.runtime.pipeline.control.resume(operator="trader")
    await eventually(lambda: c.mode() is TradingMode.ACTIVE)

    fake_kite.state.invalidate_all_tokens()  # the trader logged in on Kite web elsewhere
    await send_signal(c.runtime, "sig-tui-dead")

    await eventually(lambda: isinstance(c.app.screen, LoginScreen), message="no login modal")
    assert c.mode() is TradingMode.HALTED
    await eventually(lambda: "session ended" in c.screen_text(), message="no reason shown")
    await c.pilot.press("escape")
    await eventually(lambda: "HALTED" in c.header() and "not logged in" in c.header())
    assert any(a.rule == "zerodha_token" for a in c.runtime.read_model.alerts)

    await c.pilot.press("ctrl+l")  # and the key opens it again
    await eventually(lambda: isinstance(c.app.screen, LoginScreen))


async def test_resume_shows_the_failing_prechecks_and_stays_halted(logged_in: LiveConsole) -> None:
    c = logged_in
    assert c.mode() is TradingMode.HALTED
    await c.pilot.press("r")
    await eventually(lambda: isinstance(c.app.screen, PrecheckScreen), message="no checklist")
    await eventually(lambda: "FAIL" in c.screen_text(), message="no checklist text")
    text = c.screen_text()
    assert "token" in text and "valid for" in text
    assert "FAIL" in text and "the Kite ticker is not connected" in text
    assert "never synced: run `alphapanda instruments sync`" in text
    assert "trading stays HALTED" in text
    buttons = [b.id for b in c.app.screen.query(Button)]
    assert buttons == ["cancel"]  # no way to confirm while a check fails
    await c.pilot.press("enter")
    await eventually(lambda: not isinstance(c.app.screen, PrecheckScreen))
    assert c.mode() is TradingMode.HALTED
    with pytest.raises(NotReadyForLive):  # nor through the engine handle
        await c.runtime.controls.resume(operator="trader@desk")


async def test_header_warns_in_the_last_half_hour_of_the_session() -> None:
    harness = BusHarness(mode="live")
    clock = harness.clock
    app = make_app(harness, operator="trader@desk")
    async with app.run_test(size=(130, 30)) as pilot:
        await eventually(lambda: harness.started)
        header = app.dashboard.query_one("#header")

        def session_styles() -> str:
            content = header.visual
            return " ".join(str(span.style) for span in content.spans)  # type: ignore[union-attr]

        harness.read_model.set_session("Asha Trader", clock.now_ns() + 3 * 3600 * NS_PER_S)
        app.refresh_from_model(True)
        await pilot.pause()
        assert "Asha Trader · 3h" in header.line and "$warning" not in session_styles()

        harness.read_model.set_session("Asha Trader", clock.now_ns() + 20 * 60 * NS_PER_S)
        app.refresh_from_model(True)
        await pilot.pause()
        assert "20m" in header.line and "$warning" in session_styles()
