"""The fake Zendesk over real HTTP on loopback: what `python -m worker sandbox` serves and what
end-to-end tests run the real worker process against. Requests are handled on threads and the
account serialises them (one lock, one SQLite transaction per request; Zendesk itself
serialises writes to a ticket). `/_sandbox/…` are the sandbox's own endpoints (`admin.py`);
`/_contratos/cancelar` is the contract system's stand-in (`contracts.py`), when given one."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from worker.sandbox.admin import PREFIX, Admin
from worker.sandbox.api import JSON_HEADERS
from worker.sandbox.clock import SandboxClock
from worker.sandbox.contracts import PATH as CONTRACTS_PATH
from worker.sandbox.contracts import ContractStandIn, Lost
from worker.sandbox.zendesk import FakeZendesk, LostResponse

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class SandboxServer:
    """Binds first (port 0 picks a free one), then builds the fake with its own URL, so the
    links it returns (next pages) point back here."""

    def __init__(
        self,
        make_fake: Callable[[str], FakeZendesk],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        on_request: Callable[[str, str], None] = lambda method, path: None,
        clock: SandboxClock | None = None,
        contracts: ContractStandIn | None = None,
    ) -> None:
        if host not in LOOPBACK:
            raise ValueError("the sandbox listens on loopback only")
        self.on_request = on_request
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in two writes: without this, Nagle's algorithm holds the
            # body for the client's delayed ACK (about 40 ms a request)
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if self.path.startswith(PREFIX):
                    status, payload = server.admin.handle(self.command, self.path, body)
                    self._send(status, JSON_HEADERS, payload)
                    return
                if server.contracts is not None and self.path == CONTRACTS_PATH:
                    try:
                        status, payload = server.contracts.handle(dict(self.headers), body or b"")
                    except Lost:
                        self.close_connection = True  # no answer (applied, for a lost one)
                        return
                    self._send(status, JSON_HEADERS, payload)
                    return
                server.on_request(self.command, self.path)
                try:
                    status, headers, payload = server.fake.handle(
                        self.command, server.url + self.path, dict(self.headers), body
                    )
                except LostResponse:
                    self.close_connection = True  # applied, never answered
                    return
                self._send(status, headers, payload)

            def _send(self, status: int, headers: dict[str, str], payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815 (the stdlib's names)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: request lines carry e-mail addresses in search queries."""

        class Server(ThreadingHTTPServer):
            address_family = _family(host)
            daemon_threads = True

        self.httpd = Server((host, port), Handler)
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{self.httpd.server_address[1]}"
        self.fake = make_fake(self.url)
        self.lock = self.fake.store.lock  # the account's: held, no request is served
        self.contracts = contracts
        self.admin = Admin(self.fake, clock, contracts)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> SandboxServer:
        self.thread.start()
        return self

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET
