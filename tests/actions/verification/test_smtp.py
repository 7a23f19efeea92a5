"""SmtpCodeSender against a real SMTP server on loopback (tests/smtp_server.py)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from actions.verification.senders import CodeMessage, CodeNotSent
from actions.verification.smtp import SmtpCodeSender, SmtpConfig
from common.settings import Reader, SettingsError
from tests.smtp_server import SmtpServer, self_signed

FROM = "Easy Flow <noreply@shop.example>"


def message(language: str = "ru") -> CodeMessage:
    return CodeMessage(
        to="tanya@example.ru",
        code="482913",
        order_id="1001",
        language=language,
        ttl_minutes=10,
    )


@pytest.fixture
async def plain() -> AsyncIterator[SmtpServer]:
    server = await SmtpServer().start()
    yield server
    await server.close()


@pytest.fixture
async def secure(tmp_path: Path) -> AsyncIterator[tuple[SmtpServer, Path]]:
    context, ca_file = self_signed(tmp_path)
    server = await SmtpServer(tls=context, users={"bot": "s3cret"}).start()
    yield server, ca_file
    await server.close()


async def test_the_letter_reaches_the_relay_in_russian(plain: SmtpServer) -> None:
    config = SmtpConfig("127.0.0.1", FROM, port=plain.port, starttls=False)

    await SmtpCodeSender(config).send(message("ru"))

    [received] = plain.messages
    assert received.mail_from == "noreply@shop.example"
    assert received.rcpt_to == ["tanya@example.ru"]
    mail = received.message()
    assert mail["To"] == "tanya@example.ru"
    assert mail["Subject"] == "Код подтверждения заказа 1001"
    assert mail["Message-ID"].endswith("@shop.example>")
    body = mail.get_content()
    assert "482913" in body and "10 мин" in body and "никому не сообщайте" in body
    assert plain.commands == ["EHLO", "MAIL", "RCPT", "DATA", "QUIT"]


async def test_the_letter_is_in_english_for_an_english_conversation(
    plain: SmtpServer,
) -> None:
    config = SmtpConfig("127.0.0.1", FROM, port=plain.port, starttls=False)

    await SmtpCodeSender(config).send(message("en"))

    mail = plain.messages[0].message()
    assert mail["Subject"] == "Your confirmation code for order 1001"
    assert "Your code for the support chat: 482913" in mail.get_content()


async def test_starttls_then_login_then_the_letter(
    secure: tuple[SmtpServer, Path],
) -> None:
    server, ca_file = secure
    config = SmtpConfig(
        "127.0.0.1",
        FROM,
        port=server.port,
        user="bot",
        password="s3cret",
        ca_file=ca_file,
    )

    await SmtpCodeSender(config).send(message())

    [received] = server.messages
    assert received.tls and received.user == "bot"
    assert server.commands[:4] == ["EHLO", "STARTTLS", "EHLO", "AUTH"]


async def test_a_relay_without_starttls_gets_nothing(
    plain: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    """STARTTLS on (the default) is required: no password or code in clear."""
    config = SmtpConfig(
        "127.0.0.1", FROM, port=plain.port, user="bot", password="s3cret"
    )

    with (
        caplog.at_level(logging.ERROR),
        pytest.raises(CodeNotSent, match="SMTPNotSupportedError"),
    ):
        await SmtpCodeSender(config).send(message())

    assert plain.messages == []
    assert "AUTH" not in plain.commands and "MAIL" not in plain.commands
    assert "482913" not in caplog.text and "tanya@example.ru" not in caplog.text


async def test_an_untrusted_certificate_gets_nothing(
    secure: tuple[SmtpServer, Path],
) -> None:
    server, _ = secure
    config = SmtpConfig(
        "127.0.0.1", FROM, port=server.port, user="bot", password="s3cret"
    )  # the system's CAs do not know the emulator's certificate

    with pytest.raises(CodeNotSent, match="SSLCertVerificationError"):
        await SmtpCodeSender(config).send(message())

    assert server.messages == [] and "AUTH" not in server.commands


async def test_wrong_credentials_are_not_sent(
    secure: tuple[SmtpServer, Path],
) -> None:
    server, ca_file = secure
    config = SmtpConfig(
        "127.0.0.1",
        FROM,
        port=server.port,
        user="bot",
        password="wrong",
        ca_file=ca_file,
    )

    with pytest.raises(CodeNotSent, match="SMTPAuthenticationError 535"):
        await SmtpCodeSender(config).send(message())

    assert server.messages == []


async def test_a_closed_port_is_not_sent(plain: SmtpServer) -> None:
    port = plain.port
    await plain.close()
    config = SmtpConfig("127.0.0.1", FROM, port=port, starttls=False, timeout_s=2)

    with pytest.raises(CodeNotSent):
        await SmtpCodeSender(config).send(message())


def test_settings_are_read_and_checked(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-")
    env = {
        "EASYFLOW_SMTP_HOST": "smtp.example.ru",
        "EASYFLOW_SMTP_FROM": FROM,
        "EASYFLOW_SMTP_PORT": "2525",
        "EASYFLOW_SMTP_USER": "bot",
        "EASYFLOW_SMTP_PASSWORD": "s3cret",
        "EASYFLOW_SMTP_CA_FILE": str(ca),
    }
    config = SmtpConfig.from_env(Reader(env), production=True)
    assert (config.host, config.port, config.starttls, config.ca_file) == (
        "smtp.example.ru",
        2525,
        True,
        ca,
    )
    assert "s3cret" not in repr(config)


@pytest.mark.parametrize(
    ("change", "production", "variable"),
    [
        ({"EASYFLOW_SMTP_HOST": ""}, False, "EASYFLOW_SMTP_HOST"),
        ({"EASYFLOW_SMTP_FROM": ""}, False, "EASYFLOW_SMTP_FROM"),
        ({"EASYFLOW_SMTP_FROM": "shop"}, False, "EASYFLOW_SMTP_FROM"),
        ({"EASYFLOW_SMTP_PASSWORD": ""}, False, "EASYFLOW_SMTP_PASSWORD"),
        ({"EASYFLOW_SMTP_PORT": "0"}, False, "EASYFLOW_SMTP_PORT"),
        ({"EASYFLOW_SMTP_CA_FILE": "/nonexistent"}, False, "EASYFLOW_SMTP_CA_FILE"),
        ({"EASYFLOW_SMTP_STARTTLS": "false"}, True, "EASYFLOW_SMTP_STARTTLS"),
        ({"EASYFLOW_SMTP_PASSWORD": "changeme"}, True, "EASYFLOW_SMTP_PASSWORD"),
    ],
)
def test_a_bad_setting_names_the_variable(
    change: dict[str, str], production: bool, variable: str
) -> None:
    env = {
        "EASYFLOW_SMTP_HOST": "smtp.example.ru",
        "EASYFLOW_SMTP_FROM": FROM,
        "EASYFLOW_SMTP_USER": "bot",
        "EASYFLOW_SMTP_PASSWORD": "s3cret",
        **change,
    }
    with pytest.raises(SettingsError, match=variable):
        SmtpConfig.from_env(Reader(env), production=production)


def test_a_loopback_relay_may_go_without_tls_in_production() -> None:
    env = {
        "EASYFLOW_SMTP_HOST": "127.0.0.1",
        "EASYFLOW_SMTP_FROM": FROM,
        "EASYFLOW_SMTP_STARTTLS": "false",
    }
    assert not SmtpConfig.from_env(Reader(env), production=True).starttls
