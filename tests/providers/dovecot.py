"""A real Dovecot IMAP server from Debian's package, run privately for one test session."""

from __future__ import annotations

import asyncio
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def dovecot_available() -> bool:
    """Whether the dovecot binary is installed."""
    return Path(DOVECOT).exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Dovecot:
    """Plain-text IMAP on 127.0.0.1 with passwd-file users and Maildir storage."""

    def __init__(self) -> None:
        # Not under pytest's private temp dir: the mail user must be able to reach it.
        self.root = Path(tempfile.mkdtemp(prefix="dovecot-"))
        self.root.chmod(0o755)
        self.port = _free_port()
        self._config = self.root / "dovecot.conf"
        self._passwd = self.root / "passwd"
        self._stamp = 0.0

    def add_user(self, address: str, password: str) -> None:
        """Create a mailbox login (Dovecot reads the file at each login)."""
        with self._passwd.open("a", encoding="utf-8") as f:
            f.write(f"{address}:{{PLAIN}}{password}::::::\n")
        # Dovecot re-reads the file when its mtime changes; two writes in one second look like one.
        self._stamp = max(self._stamp + 1, time.time())
        os.utime(self._passwd, (self._stamp, self._stamp))

    def start(self) -> None:
        """Write the configuration and start the server in the background."""
        for sub in ("run", "state", "home"):
            (self.root / sub).mkdir()
        self._passwd.touch()
        if os.geteuid() == 0:
            mail = pwd.getpwnam("mail")
            uid, gid, extra = mail.pw_uid, mail.pw_gid, ""
            os.chown(self.root / "home", uid, gid)
        else:  # an unprivileged developer: everything runs as them
            me = pwd.getpwuid(os.geteuid()).pw_name
            uid, gid = os.geteuid(), os.getegid()
            extra = f"default_internal_user = {me}\ndefault_login_user = {me}\n"
        self._config.write_text(
            f"""{extra}base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self._passwd}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={self.root}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
""",
            encoding="utf-8",
        )
        subprocess.run([DOVECOT, "-c", str(self._config)], check=True)
        self._wait_listening()

    def _wait_listening(self) -> None:
        """Return once the IMAP port accepts connections."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot did not start; see {self.root}/dovecot.log")

    def kick(self, address: str) -> None:
        """Drop every IMAP connection of one user, as a server does on a restart or timeout."""
        doveadm = shutil.which("doveadm") or "doveadm"
        subprocess.run(
            [doveadm, "-c", str(self._config), "kick", address],
            check=True,
            capture_output=True,
        )

    def stop(self) -> None:
        """Stop the server and remove its files."""
        subprocess.run([DOVECOT, "-c", str(self._config), "stop"], check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def append_sync(self, address: str, password: str, raw: bytes, folder: str = "INBOX") -> None:
        """Deliver a message into a mailbox, as a mail server would."""
        imap = imaplib.IMAP4("127.0.0.1", self.port)
        try:
            imap.login(address, password)
            imap.append(folder, None, None, raw)
        finally:
            imap.logout()

    async def append(self, address: str, password: str, raw: bytes) -> None:
        """`append_sync` off the event loop."""
        await asyncio.to_thread(self.append_sync, address, password, raw)

    def __enter__(self) -> Dovecot:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
