"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it receives."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import time
from email.message import EmailMessage
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class _Collector:
    """aiosmtpd handler: store each message, or refuse it while `refuse_with` is set."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse_with: str | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse_with:
            return self.refuse_with
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted for delivery"


class SmtpServer:
    """Start with `with SmtpServer() as smtp:`; read `smtp.messages`."""

    def __init__(self, logins: dict[str, str] | None = None) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self._collector = _Collector()
        self._logins = logins or {}
        self.logged_in: list[str] = []
        self._controller = Controller(
            self._collector,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=self._authenticate,
            auth_require_tls=False,  # plain text on 127.0.0.1 only
        )

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        """Accept the configured logins (PLAIN or LOGIN)."""
        if isinstance(auth_data, LoginPassword):
            user, password = auth_data.login.decode(), auth_data.password.decode()
            if self._logins.get(user) == password:
                self.logged_in.append(user)
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    @property
    def messages(self) -> list[EmailMessage]:
        """Every message received so far, oldest first."""
        return self._collector.messages

    def refuse(self, reply: str | None) -> None:
        """Answer DATA with this SMTP reply (e.g. '451 try later'), or accept again with None."""
        self._collector.refuse_with = reply

    async def wait_for(self, count: int, within: float = 20.0) -> list[EmailMessage]:
        """Wait until at least `count` messages arrived."""
        deadline = time.monotonic() + within
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.messages)} of {count} emails within {within}s")
            await asyncio.sleep(0.05)
        return self.messages

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._controller.stop()
