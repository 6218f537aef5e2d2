"""A real SMTP server for the e-mail tests (aiosmtpd from PyPI).

    python smtp_sink.py --out DIR [--port N] [--cert PEM --key PEM] [--user U --password P]

Listens on 127.0.0.1 (port 0 picks a free one) and prints `ready <port>`
once it accepts connections. With a certificate it offers STARTTLS; with
a user it takes AUTH PLAIN/LOGIN after STARTTLS and refuses a wrong
password (535); without one it takes mail unauthenticated. Every message
received is written whole to DIR/<n>.eml, and as the tests read it to
DIR/<n>.json: the envelope's recipients, whether it came over TLS, the
user it signed in as, and the decoded headers and text. It stops when its
standard input closes (the test process ended) or on SIGTERM.
"""

import argparse
import email
import email.policy
import json
import os
import signal
import ssl
import sys
import logging
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Sink:
    def __init__(self, out):
        self.out = out
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            n = self.count
        raw = envelope.original_content
        with open(os.path.join(self.out, f"{n}.eml"), "wb") as f:
            f.write(raw)
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        body = parsed.get_body(preferencelist=("plain",))
        seen = {
            "rcpt_to": list(envelope.rcpt_tos),
            "mail_from": envelope.mail_from,
            "tls": bool(session.ssl),
            "auth": session.auth_data.login.decode()
            if session.authenticated and session.auth_data
            else None,
            "from": str(parsed["From"] or ""),
            "to": str(parsed["To"] or ""),
            "reply_to": str(parsed["Reply-To"] or ""),
            "subject": str(parsed["Subject"] or ""),
            "date": str(parsed["Date"] or ""),
            "body": body.get_content() if body is not None else "",
        }
        tmp = os.path.join(self.out, f".{n}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(seen, f, ensure_ascii=False)
        os.rename(tmp, os.path.join(self.out, f"{n}.json"))
        return "250 Message accepted for delivery"


def main():
    # aiosmtpd logs a warning about its own deprecated attribute on every
    # sign-in; errors still show.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--user")
    parser.add_argument("--password")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    tls = None
    if args.cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.cert, args.key)

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (
            args.user is not None
            and auth_data.login == args.user.encode()
            and auth_data.password == (args.password or "").encode()
        )
        # `handled=False`: aiosmtpd answers a refusal with 535 itself.
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    port = args.port
    if port == 0:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    controller = Controller(
        Sink(args.out),
        hostname="127.0.0.1",
        port=port,
        tls_context=tls,
        require_starttls=False,
        authenticator=authenticate if args.user else None,
        auth_required=False,
        auth_require_tls=True,
        server_hostname="localhost",
        ready_timeout=10,
    )
    controller.start()
    print(f"ready {port}", flush=True)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        finally:
            done.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    done.wait()
    controller.stop()


if __name__ == "__main__":
    main()
