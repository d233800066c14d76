"""A stand-in Hugging Face hub on 127.0.0.1 serving ``/{repo}/resolve/{rev}/{file}``, for download tests."""

from __future__ import annotations

import hashlib
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _handler(files: dict[str, bytes], requests: list[str]):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output clean
            pass

        def _lookup(self) -> bytes | None:
            path = self.path.split("?", 1)[0].lstrip("/")
            if "/resolve/" not in path:
                return None
            repo, rest = path.split("/resolve/", 1)
            filename = rest.split("/", 1)[1] if "/" in rest else ""
            return files.get(f"{repo}/{filename}")

        def _headers(self, body: bytes, status: int = 200, length: int | None = None) -> None:
            self.send_response(status)
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("ETag", '"' + hashlib.sha256(body).hexdigest() + '"')
            self.send_header("Content-Length", str(len(body) if length is None else length))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()

        def do_HEAD(self):  # noqa: N802
            requests.append(f"HEAD {self.path}")
            body = self._lookup()
            if body is None:
                self.send_response(404)
                self.send_header("X-Error-Code", "EntryNotFound")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self._headers(body)

        def do_GET(self):  # noqa: N802
            requests.append(f"GET {self.path}")
            body = self._lookup()
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            start = 0
            rng = self.headers.get("Range")
            if rng and rng.startswith("bytes="):
                start = int(rng[6:].split("-")[0] or 0)
            chunk = body[start:]
            self.send_response(206 if start else 200)
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("ETag", '"' + hashlib.sha256(body).hexdigest() + '"')
            self.send_header("Content-Length", str(len(chunk)))
            self.end_headers()
            self.wfile.write(chunk)

    return Handler


@contextmanager
def fake_hub(files: dict[str, bytes]):
    """Serve ``{"owner/repo/path/in/repo": bytes}``; yields (endpoint_url, request_log)."""
    log: list[str] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(files, log))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", log
    finally:
        server.shutdown()
        server.server_close()
