"""No secret reaches a log: every path a value can take into a record, every output."""

from __future__ import annotations

import io
import logging

import pytest

from engine.logs import MASK, redact, register_secret

API_SECRET = "apisecret9f8e7d6c5b4a"
ACCESS_TOKEN = "accesstokenZZ11yy22xx33"
REQUEST_TOKEN = "reqtokenQQ44ww55ee66"
PASSWORD = "sasl-pa55word-77"
ALL_SECRETS = (API_SECRET, ACCESS_TOKEN, REQUEST_TOKEN, PASSWORD)


def log_secrets_through_every_path() -> None:
    log = logging.getLogger("alphapanda.zerodha.session")
    # Registered values, anywhere in the message, args or extras.
    log.info("session for secret %s", API_SECRET)
    log.warning("plain text " + ACCESS_TOKEN)
    log.info("extras", extra={"token_value": REQUEST_TOKEN, "nested": {"deep": [API_SECRET]}})
    # Known patterns, even for values nobody registered.
    log.info("GET /session?request_token=%s&checksum=abcdef0123456789", "unregisteredRT999")
    log.info("headers {'Authorization': 'token mykey:unregisteredAT888'}")
    log.info('response {"access_token": "unregisteredAT777", "user_id": "AB1234"}')
    log.info("ws url wss://ws.kite.trade?api_key=kk&access_token=unregisteredAT666")
    log.info("config", extra={"params": {"api_secret": "unregisteredSEC555", "api_key": "kk"}})
    logging.getLogger("alphapanda.bus").info("sasl password=%s", PASSWORD)
    # Exception text, including the exception's own message.
    try:
        raise ValueError(f"TokenException: token {ACCESS_TOKEN} expired; secret={API_SECRET}")
    except ValueError:
        log.exception("login failed")
    logging.getLogger("alphapanda.audit").info("stack", stack_info=True, extra={"who": PASSWORD})


LEAKS = (*ALL_SECRETS, "unregistered")


@pytest.fixture
def registered(logs):
    for secret in (API_SECRET, ACCESS_TOKEN, REQUEST_TOKEN, PASSWORD):
        register_secret(secret)
    return logs


def test_no_secret_in_any_log_file(registered) -> None:
    log_secrets_through_every_path()
    registered.flush()
    written = "".join(path.read_text() for path in registered.logs_dir.iterdir())
    assert written.count("\n") >= 12
    for leak in LEAKS:
        assert leak not in written
    assert MASK in written
    assert "user_id" in written and "AB1234" in written  # the rest of the line survives


def test_no_secret_in_the_console_ring_buffer(registered) -> None:
    log_secrets_through_every_path()
    shown = "\n".join(entry.message for entry in registered.ring.entries())
    for leak in LEAKS:
        assert leak not in shown
    assert "login failed | ValueError: TokenException: token" in shown


def test_no_secret_on_the_console_stream(isolated_home, monkeypatch) -> None:
    from engine.logs import setup_logging
    from engine.logs.redaction import SECRETS

    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    runtime = setup_logging(isolated_home, level="INFO", console=True)
    try:
        register_secret(API_SECRET)
        log_secrets_through_every_path()
    finally:
        runtime.close()
        SECRETS.clear()
    output = stream.getvalue()
    assert "login failed" in output
    for leak in (API_SECRET, "unregistered"):
        assert leak not in output


@pytest.mark.parametrize(
    "text",
    [
        "access_token=abcd1234",
        "api_secret: abcd1234",
        "request_token=abcd1234&action=login",
        "Authorization: token api_key:abcd1234",
        '{"access_token": "abcd1234"}',
        "{'checksum': 'abcd1234'}",
        "Authorization: Bearer abcd1234",
        "cannot open postgresql+asyncpg://trader:abcd1234@db.internal:5432/alpha",
        "redis unreachable at redis://:abcd1234@cache:6379/0",
    ],
)
def test_secret_patterns_are_masked(text) -> None:
    assert "abcd1234" not in redact(text, secrets=())


@pytest.mark.parametrize(
    "text",
    [
        "instrument_token=256265",
        "tradingsymbol=INFY qty=10",
        "api_key=public_key_id",
        "kafka at 127.0.0.1:9092, database sqlite+aiosqlite:////home/t/alpha.db",
        "postgresql://trader@db:5432/alpha",  # a user without a password stays readable
    ],
)
def test_ordinary_fields_are_left_alone(text) -> None:
    assert redact(text, secrets=()) == text
