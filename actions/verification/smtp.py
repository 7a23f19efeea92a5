"""One-time codes by e-mail through any SMTP relay (RFC 5321, submission port).

The shop's own mail server, or a provider's SMTP endpoint (Yandex 360, Mail.ru,
Unisender Go, SendGrid, Amazon SES, Mailgun): ``EASYFLOW_SMTP_*`` settings, read
by ``SmtpConfig.from_env`` through the one settings reader. STARTTLS is on by
default and, when on, required: a relay that does not offer it gets nothing, so
the password and the code never cross the network in clear. The certificate is
checked against the system's CAs, or ``EASYFLOW_SMTP_CA_FILE`` for a relay with a
private CA. Production refuses to turn STARTTLS off except for a relay on loopback.

The letter is in the conversation's language (Russian or English). ``smtplib`` runs
in a worker thread, so the action server's event loop never waits on the relay.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path

from actions.verification.mask import is_email, mask_email
from actions.verification.senders import CodeMessage, CodeNotSent
from common.settings import Reader, SettingsError, is_placeholder

logger = logging.getLogger(__name__)

_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})

_LETTERS = {
    "ru": (
        "Код подтверждения заказа {order_id}",
        "Здравствуйте!\n\n"
        "Ваш код для чата поддержки: {code}\n\n"
        "Он подтверждает, что заказ {order_id} ваш, и действует {minutes} мин. "
        "Введите его только в чате, где вы о нём спросили, и никому не сообщайте.\n\n"
        "Если вы ничего не спрашивали, просто удалите это письмо: без кода детали "
        "заказа никто не увидит.\n",
    ),
    "en": (
        "Your confirmation code for order {order_id}",
        "Hello,\n\n"
        "Your code for the support chat: {code}\n\n"
        "It confirms that order {order_id} is yours and is valid for {minutes} "
        "minutes. Enter it only in the chat where you asked, and never share it.\n\n"
        "If you did not ask, just delete this e-mail: nobody sees the order's "
        "details without the code.\n",
    ),
}


@dataclass(frozen=True)
class SmtpConfig:
    """``EASYFLOW_SMTP_*``: where and as whom the codes are sent."""

    host: str
    from_address: str
    port: int = 587
    starttls: bool = True
    user: str = ""
    password: str = field(default="", repr=False)
    timeout_s: float = 10.0
    ca_file: Path | None = None

    @classmethod
    def from_env(cls, reader: Reader, production: bool = False) -> SmtpConfig:
        chosen = "EASYFLOW_CODE_SENDER=smtp"
        host = reader.required("EASYFLOW_SMTP_HOST", chosen)
        sender = reader.required("EASYFLOW_SMTP_FROM", chosen)
        if not is_email(parseaddr(sender)[1]):
            raise SettingsError(
                f"EASYFLOW_SMTP_FROM: '{sender}' is not an address such as "
                "'Shop <noreply@shop.example>'"
            )
        user = reader.text("EASYFLOW_SMTP_USER", "")
        password = reader.text("EASYFLOW_SMTP_PASSWORD", "")
        if bool(user) != bool(password):
            raise SettingsError(
                "EASYFLOW_SMTP_PASSWORD: set both EASYFLOW_SMTP_USER and "
                "EASYFLOW_SMTP_PASSWORD, or neither (a relay that needs no login)"
            )
        ca_file = reader.raw("EASYFLOW_SMTP_CA_FILE")
        if ca_file and not Path(ca_file).is_file():
            raise SettingsError(f"EASYFLOW_SMTP_CA_FILE: {ca_file} is not a file")
        config = cls(
            host=host,
            from_address=sender,
            port=reader.integer("EASYFLOW_SMTP_PORT", 587, 1, 65535),
            starttls=reader.flag("EASYFLOW_SMTP_STARTTLS", True),
            user=user,
            password=password,
            timeout_s=reader.seconds("EASYFLOW_SMTP_TIMEOUT_S", 10.0),
            ca_file=Path(ca_file) if ca_file else None,
        )
        if production and not config.starttls and host not in _LOOPBACK:
            raise SettingsError(
                "EASYFLOW_SMTP_STARTTLS: production sends codes and the SMTP "
                "password only over TLS (a relay on loopback may go without)"
            )
        if production and password and is_placeholder(password):
            raise SettingsError("EASYFLOW_SMTP_PASSWORD: replace the placeholder value")
        return config


def letter(message: CodeMessage, from_address: str) -> EmailMessage:
    """The e-mail with the code, in the conversation's language."""
    subject, body = _LETTERS.get(message.language, _LETTERS["ru"])
    values = {
        "code": message.code,
        "order_id": message.order_id,
        "minutes": message.ttl_minutes,
    }
    mail = EmailMessage()
    mail["From"] = from_address
    mail["To"] = message.to
    mail["Subject"] = subject.format(**values)
    mail["Date"] = formatdate(localtime=False)
    domain = parseaddr(from_address)[1].rpartition("@")[2]
    mail["Message-ID"] = make_msgid(domain=domain)
    mail.set_content(body.format(**values))
    return mail


class SmtpCodeSender:
    name = "smtp"

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def __repr__(self) -> str:
        return f"SmtpCodeSender({self.config.host!r}, {self.config.port})"

    async def send(self, message: CodeMessage) -> None:
        mail = letter(message, self.config.from_address)
        try:
            await asyncio.to_thread(self._deliver, mail)
        except (smtplib.SMTPException, OSError) as error:
            # The reply text may quote the address: the class and code only.
            code = getattr(error, "smtp_code", None)
            logger.error(
                "privacy.smtp.failed",
                extra={"error": type(error).__name__, "smtp_code": code},
            )
            raise CodeNotSent(f"{type(error).__name__} {code or ''}".strip()) from error
        logger.info(
            "privacy.code_sent",
            extra={
                "sender": self.name,
                "order_id": message.order_id,
                "to": mask_email(message.to),
            },
        )

    def _deliver(self, mail: EmailMessage) -> None:
        config = self.config
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout_s) as smtp:
            smtp.ehlo()
            if config.starttls:
                # Raises SMTPNotSupportedError when the relay offers no STARTTLS:
                # nothing goes out in clear.
                smtp.starttls(context=self._tls())
                smtp.ehlo()
            if config.user:
                smtp.login(config.user, config.password)
            smtp.send_message(mail)

    def _tls(self) -> ssl.SSLContext:
        cafile = str(self.config.ca_file) if self.config.ca_file else None
        return ssl.create_default_context(cafile=cafile)
