"""`bot doctor` for email: the SMTP and IMAP servers accept the bot's login."""

from __future__ import annotations

import asyncio

import aiosmtplib
from aioimaplib import IMAP4

from channels.email.imap import ImapAccount, ImapLoginRefused, connect_imap, logout_quietly
from channels.email.mailbox import token_source
from channels.email.settings import EmailSettings
from channels.plug import Check

TIMEOUT_SECONDS = 10.0


async def check_smtp(s: EmailSettings) -> Check:
    """Connect and log in to the SMTP server."""
    assert s.smtp_host is not None
    password = s.smtp_password or s.imap_password
    oauth2 = token_source(s)
    username = s.smtp_username or s.email_address
    smtp = aiosmtplib.SMTP(
        hostname=s.smtp_host,
        port=s.smtp_port,
        use_tls=s.smtp_security == "tls",
        start_tls=s.smtp_security == "starttls",
        timeout=TIMEOUT_SECONDS,
    )
    where = f"{s.smtp_host}:{s.smtp_port}"
    try:
        await smtp.connect()
        if oauth2 is not None and username:
            await smtp.auth_xoauth2(username, await oauth2())
        elif password is not None and username:
            await smtp.login(username, password.get_secret_value())
    except aiosmtplib.SMTPAuthenticationError as error:
        return Check(
            "SMTP",
            False,
            f"{where} refused the login: {error.message}",
            "check SMTP_USERNAME/SMTP_PASSWORD (Gmail and Microsoft 365 need an app "
            "password or the EMAIL_OAUTH2_* settings)",
        )
    except (aiosmtplib.SMTPException, OSError) as error:
        return Check(
            "SMTP",
            False,
            f"cannot reach {where}: {error}",
            "check SMTP_HOST, SMTP_PORT and SMTP_SECURITY (587 starttls, 465 tls)",
        )
    finally:
        if smtp.is_connected:
            await smtp.quit()
    return Check("SMTP", True, f"{where}, logged in as {username}")


async def check_imap(s: EmailSettings) -> Check:
    """Log in to the IMAP server and open the folder the bot reads."""
    assert s.imap_host is not None
    username = s.imap_username or s.email_address or ""
    where = f"{s.imap_host}:{s.imap_port}"
    password = s.imap_password.get_secret_value() if s.imap_password else None
    account = ImapAccount(
        s.imap_host, s.imap_port, username, password, use_tls=s.imap_tls, oauth2=token_source(s)
    )
    imap: IMAP4 | None = None
    try:
        imap = await connect_imap(account)
        folder = await imap.select(s.imap_folder)
    except ImapLoginRefused:
        return Check(
            "IMAP",
            False,
            f"{where} refused the login for {username}",
            "check IMAP_USERNAME/IMAP_PASSWORD (or the EMAIL_OAUTH2_* settings)",
        )
    except (OSError, asyncio.IncompleteReadError, TimeoutError) as error:
        return Check(
            "IMAP",
            False,
            f"cannot reach {where}: {error!r}",
            "check IMAP_HOST, IMAP_PORT (993) and IMAP_TLS",
        )
    finally:
        if imap is not None:
            await logout_quietly(imap)
    if folder.result != "OK":
        return Check(
            "IMAP",
            False,
            f"no folder {s.imap_folder!r} in {username}'s mailbox",
            "set IMAP_FOLDER to an existing folder (usually INBOX)",
        )
    return Check("IMAP", True, f"{where}, {username}, folder {s.imap_folder}")
