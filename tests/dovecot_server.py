"""A private dovecot IMAP server on 127.0.0.1 for the tests: TLS from a throwaway CA, one passwd-file user.

It runs from its own folder (config, state, log, mail), never touching the system's dovecot. Dovecot
runs its logins as dovenull and the mail as dovecot, so the folder is made traversable for them.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import trustme

USER, PASSWORD = "office@example.com", "imapSECRET2024"

CONFIG = """\
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
default_login_user = dovenull
default_internal_user = dovecot
default_internal_group = dovecot
first_valid_uid = 1
mail_location = maildir:~/Maildir
auth_mechanisms = plain login
disable_plaintext_auth = yes
ssl = required
ssl_cert = <{d}/cert.pem
ssl_key = <{d}/key.pem
passdb {{
  driver = passwd-file
  args = {d}/passwd
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={d}/mail/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
  }}
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {port}
    ssl = yes
  }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ImapServer:
    root: Path
    port: int
    ca_file: Path
    user: str = USER
    password: str = PASSWORD

    def client(self) -> imaplib.IMAP4_SSL:
        ctx = ssl.create_default_context(cafile=str(self.ca_file))
        c = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=ctx)
        c.login(self.user, self.password)
        return c

    def append(self, raw: bytes, when: float, folder: str = "INBOX") -> None:
        """Put a message in the mailbox with the given INTERNALDATE (the server's receipt time)."""
        c = self.client()
        try:
            typ, data = c.append(folder, None, imaplib.Time2Internaldate(when), raw)
            assert typ == "OK", data
        finally:
            c.logout()

    def imapclient(self):  # type: ignore[no-untyped-def]
        """IMAPClient (it writes folder names in modified UTF-7: 已处理 is a folder name too)."""
        from imapclient import IMAPClient

        c = IMAPClient("127.0.0.1", port=self.port, ssl=True, ssl_context=ssl.create_default_context(cafile=str(self.ca_file)))
        c.login(self.user, self.password)
        return c

    def create(self, folder: str) -> None:
        c = self.imapclient()
        try:
            c.create_folder(folder)
        finally:
            c.logout()

    def messages(self, folder: str = "INBOX") -> list[tuple[int, str, bytes]]:
        """(uid, flags, raw message) of every message in the folder, read without changing it."""
        c = self.imapclient()
        try:
            c.select_folder(folder, readonly=True)
            got = c.fetch(c.search(["ALL"]), ["FLAGS", "BODY.PEEK[]"])
            return [(int(uid), " ".join(f.decode() for f in d[b"FLAGS"]), d[b"BODY[]"]) for uid, d in sorted(got.items())]
        finally:
            c.logout()


@contextlib.contextmanager
def dovecot() -> Iterator[ImapServer]:
    """Start a private dovecot and stop it afterwards (by its own config, so only this instance)."""
    exe = shutil.which("dovecot") or "/usr/sbin/dovecot"
    d = Path(tempfile.mkdtemp(prefix="ledger-xl-dovecot-"))
    try:
        os.chmod(d, 0o755)
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        cert.private_key_pem.write_to_path(str(d / "key.pem"))
        cert.cert_chain_pems[0].write_to_path(str(d / "cert.pem"))
        ca_file = d / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        (d / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n", encoding="utf-8")
        for sub in ("run", "state", "mail"):
            (d / sub).mkdir()
        shutil.chown(d / "mail", "dovecot", "dovecot")
        port = free_port()
        conf = d / "dovecot.conf"
        conf.write_text(CONFIG.format(d=d, port=port), encoding="utf-8")
        # the daemon keeps whatever it inherits open: give it no pipe to wait on
        subprocess.run([exe, "-c", str(conf)], check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("dovecot did not start: " + (d / "dovecot.log").read_text(errors="replace")) from None
                    time.sleep(0.05)
            yield ImapServer(d, port, ca_file)
        finally:
            subprocess.run([exe, "-c", str(conf), "stop"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            # wait for the master to go, so its files can be removed
            for _ in range(100):
                if not (d / "run" / "master.pid").exists():
                    break
                time.sleep(0.05)
    finally:
        shutil.rmtree(d, ignore_errors=True)
