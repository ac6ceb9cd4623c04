"""The fake Zendesk over real HTTP on loopback: what `python -m worker sandbox` serves and what
end-to-end tests run the real worker process against. One request at a time (the fake is a
single account's state; Zendesk itself serialises writes to a ticket)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from worker.sandbox.zendesk import FakeZendesk, LostResponse


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
    ) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the sandbox listens on loopback only")
        self.lock = threading.Lock()
        self.on_request = on_request
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                server.on_request(self.command, self.path)
                try:
                    with server.lock:
                        status, headers, payload = server.fake.handle(
                            self.command, server.url + self.path, dict(self.headers), body
                        )
                except LostResponse:
                    self.close_connection = True  # applied, never answered
                    return
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

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        self.fake = make_fake(self.url)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> SandboxServer:
        self.thread.start()
        return self

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
