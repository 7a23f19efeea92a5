"""A loopback SMTP server for tests, recording every message it accepts.

What a submission server does, as far as a client such as ``smtplib`` uses it:
RFC 5321 (greeting, EHLO/HELO, MAIL FROM, RCPT TO, DATA with dot-stuffing, RSET,
NOOP, QUIT, replies in the right order and 503 out of it), STARTTLS (RFC 3207:
offered only before TLS, the session starts afresh after it) and AUTH PLAIN
(RFC 4954: offered only over TLS when TLS is available; a server with users
refuses MAIL before a login, 535 for wrong credentials).

``self_signed(directory)`` makes a certificate for 127.0.0.1 (cryptography, a
dependency of the environment already) and the server's TLS context; the client
trusts the certificate file as its CA.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import ipaddress
import ssl
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Received:
    """One accepted message: the envelope, the data, and how it came."""

    mail_from: str
    rcpt_to: list[str]
    data: bytes
    tls: bool
    user: str | None

    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=default)  # type: ignore[return-value]


@dataclass
class SmtpServer:
    tls: ssl.SSLContext | None = None
    users: dict[str, str] = field(default_factory=dict)
    host: str = "127.0.0.1"
    port: int = 0
    messages: list[Received] = field(default_factory=list)
    # Every command verb received, in order (credentials never recorded).
    commands: list[str] = field(default_factory=list)

    async def start(self) -> SmtpServer:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Session(self), self.host, self.port
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        self._server.close()
        await self._server.wait_closed()


class _Session(asyncio.Protocol):
    def __init__(self, server: SmtpServer) -> None:
        self.server = server
        self.buffer = b""
        self.tls = False
        self.user: str | None = None
        self.greeted = False
        self.in_data = False
        self.awaiting_auth = False
        self._reset()

    def _reset(self) -> None:
        self.mail_from: str | None = None
        self.rcpt_to: list[str] = []
        self.lines: list[bytes] = []

    # --- transport ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self._reply("220 emulator.local ESMTP ready")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n" in self.buffer and not self.transport.is_closing():
            line, self.buffer = self.buffer.split(b"\r\n", 1)
            if self.in_data:
                self._data_line(line)
            elif self.awaiting_auth:
                self.awaiting_auth = False
                self._login(line.decode("ascii", "replace"))
            elif self._command(line.decode("utf-8", "replace")) == "STARTTLS":
                return  # the rest arrives over TLS

    def _reply(self, text: str) -> None:
        self.transport.write(text.encode() + b"\r\n")

    async def _start_tls(self) -> None:
        assert self.server.tls is not None
        loop = asyncio.get_running_loop()
        try:
            self.transport = await loop.start_tls(  # type: ignore[assignment]
                self.transport, self, self.server.tls, server_side=True
            )
        except (ssl.SSLError, ConnectionError):
            return  # the client refused our certificate
        # RFC 3207: everything learnt before TLS is forgotten.
        self.tls, self.greeted, self.user, self.buffer = True, False, None, b""
        self._reset()

    # --- commands -----------------------------------------------------------

    def _command(self, line: str) -> str:
        verb, _, argument = line.partition(" ")
        verb = verb.upper()
        self.server.commands.append(verb)
        if verb in ("EHLO", "HELO"):
            self.greeted = True
            self._reset()
            if verb == "HELO":
                self._reply("250 emulator.local")
                return verb
            lines = ["emulator.local", "8BITMIME", "SIZE 10485760"]
            if self.server.tls is not None and not self.tls:
                lines.append("STARTTLS")
            if self.server.users and (self.tls or self.server.tls is None):
                lines.append("AUTH PLAIN")
            lines.append("HELP")
            for number, text in enumerate(lines):
                self._reply(f"250{' ' if number == len(lines) - 1 else '-'}{text}")
        elif verb == "STARTTLS":
            if self.server.tls is None or self.tls:
                self._reply("502 5.5.1 STARTTLS not available")
                return "NOOP"
            self._reply("220 2.0.0 Ready to start TLS")
            self.transport.pause_reading()  # the next bytes are the TLS handshake
            self.upgrade = asyncio.ensure_future(self._start_tls())
        elif verb == "AUTH":
            self._auth(argument)
        elif verb == "MAIL":
            if not self.greeted:
                self._reply("503 5.5.1 Say EHLO first")
            elif self.server.users and self.user is None:
                self._reply("530 5.7.0 Authentication required")
            elif not argument.upper().startswith("FROM:"):
                self._reply("501 5.5.4 Syntax: MAIL FROM:<address>")
            else:
                self._reset()
                self.mail_from = _address(argument[5:])
                self._reply("250 2.1.0 OK")
        elif verb == "RCPT":
            if self.mail_from is None:
                self._reply("503 5.5.1 Need MAIL first")
            elif not argument.upper().startswith("TO:"):
                self._reply("501 5.5.4 Syntax: RCPT TO:<address>")
            else:
                self.rcpt_to.append(_address(argument[3:]))
                self._reply("250 2.1.5 OK")
        elif verb == "DATA":
            if not self.rcpt_to:
                self._reply("503 5.5.1 Need RCPT first")
            else:
                self.in_data = True
                self._reply("354 End data with <CR><LF>.<CR><LF>")
        elif verb == "RSET":
            self._reset()
            self._reply("250 2.0.0 OK")
        elif verb == "NOOP":
            self._reply("250 2.0.0 OK")
        elif verb == "QUIT":
            self._reply("221 2.0.0 Bye")
            self.transport.close()
        else:
            self._reply("500 5.5.2 Command not recognized")
        return verb

    def _auth(self, argument: str) -> None:
        mechanism, _, initial = argument.partition(" ")
        if not self.server.users or mechanism.upper() != "PLAIN":
            self._reply("504 5.5.4 Unrecognized authentication type")
        elif self.server.tls is not None and not self.tls:
            self._reply("538 5.7.11 Encryption required")
        elif self.user is not None:
            self._reply("503 5.5.1 Already authenticated")
        elif initial:
            self._login(initial)
        else:
            self.awaiting_auth = True
            self._reply("334 ")

    def _login(self, encoded: str) -> None:
        try:
            _, user, password = base64.b64decode(encoded).decode().split("\0")
        except ValueError:
            self._reply("501 5.5.2 Cannot decode the response")
            return
        if self.server.users.get(user) != password:
            self._reply("535 5.7.8 Authentication credentials invalid")
            return
        self.user = user
        self._reply("235 2.7.0 Authentication successful")

    def _data_line(self, line: bytes) -> None:
        if line == b".":
            self.in_data = False
            self.server.messages.append(
                Received(
                    self.mail_from or "",
                    list(self.rcpt_to),
                    b"\r\n".join(self.lines) + b"\r\n",
                    self.tls,
                    self.user,
                )
            )
            self._reset()
            self._reply("250 2.0.0 OK: queued")
            return
        self.lines.append(line[1:] if line.startswith(b".") else line)


def _address(argument: str) -> str:
    """``<a@b.c> SIZE=...`` → ``a@b.c``."""
    return argument.strip().split(" ", 1)[0].strip("<>")


def self_signed(directory: Path) -> tuple[ssl.SSLContext, Path]:
    """The server's TLS context for 127.0.0.1, and the certificate file a client
    trusts as its CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "emulator.local")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.DNSName("localhost"),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / "smtp-cert.pem"
    key_path = directory / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context, cert_path
