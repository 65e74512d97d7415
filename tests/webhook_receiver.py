"""A local HTTP receiver for webhooks: records each JSON body it accepts (and the raw
bytes and headers it came with), and counts the posts it refuses."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


class WebhookReceiver:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        # (headers, raw body) of each accepted post, to check signatures against.
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self.refused = 0  # posts answered with an error status
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.status < 300:
                    receiver.events.append(json.loads(body))
                    receiver.deliveries.append((dict(self.headers.items()), body))
                else:
                    receiver.refused += 1
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/hooks/kasal"

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()
