"""The compose gateway's access log never records a token.

Rasa 3.6 takes its HTTP API token only as ``?token=``, so a log line with the
query string (nginx's default ``combined`` format logs ``$request``) writes the
secret to disk. Runs the real nginx with deploy/compose/nginx.conf, its upstreams
pointed at a loopback stub, and reads the log it wrote. (The production profile's
nginx is checked the same way in tests/production/test_cluster.py.)
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.deploy.tools import DEPLOY, INSTALL_HINT

SECRET = "s3cret-token-in-the-query"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Upstream(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """nginx with the compose gateway config; yields its URL and access log."""
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if nginx is None:
        pytest.fail(
            f"nginx not found: apt-get install -y nginx-light, or {INSTALL_HINT}"
        )
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    target = f"127.0.0.1:{upstream.server_address[1]}"
    port = _free_port()
    log = tmp_path / "access.log"
    site = (DEPLOY / "compose" / "nginx.conf").read_text()
    site = re.sub(r"server\s+(rasa|actions|api):\d+", f"server {target}", site)
    site = site.replace("listen 8080;", f"listen 127.0.0.1:{port};")
    assert "/var/log/nginx/access.log easyflow;" in site
    site = site.replace("/var/log/nginx/access.log", str(log))
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / name).mkdir()
    config = tmp_path / "nginx.conf"
    config.write_text(
        f"""daemon off;
master_process off;
pid {tmp_path / "nginx.pid"};
error_log {tmp_path / "error.log"} warn;
events {{ worker_connections 64; }}
http {{
  client_body_temp_path {tmp_path / "body"};
  proxy_temp_path {tmp_path / "proxy"};
  fastcgi_temp_path {tmp_path / "fastcgi"};
  uwsgi_temp_path {tmp_path / "uwsgi"};
  scgi_temp_path {tmp_path / "scgi"};
{site}
}}
"""
    )
    process = subprocess.Popen(
        [nginx, "-c", str(config), "-p", str(tmp_path), "-e", str(tmp_path / "e.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, (
                process.stderr.read() if process.stderr else ""
            )
            try:
                urllib.request.urlopen(f"{url}/gateway-health", timeout=2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "nginx did not answer"
                time.sleep(0.2)
        yield url, log
    finally:
        process.terminate()
        process.wait(timeout=10)
        upstream.shutdown()


def test_the_access_log_has_paths_without_queries(gateway: tuple[str, Path]) -> None:
    url, log = gateway
    for path in (
        f"/api/conversations?token={SECRET}",
        f"/webhooks/rest/webhook?token={SECRET}&x=1",
        f"/pay/p-1?token={SECRET}",
    ):
        with urllib.request.urlopen(url + path, timeout=10) as answer:
            assert answer.status == 200
    # Written per request, but leave nginx a moment on a busy machine.
    deadline = time.monotonic() + 5
    while log.read_text().count("\n") < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    text = log.read_text()
    assert '"GET /api/conversations HTTP/1.1" 200' in text
    assert '"GET /webhooks/rest/webhook HTTP/1.1" 200' in text
    assert SECRET not in text and "token=" not in text


def test_the_api_routes_for_the_action_server_are_not_public(
    gateway: tuple[str, Path],
) -> None:
    url, _ = gateway
    for path in (
        "/api/internal/knowledge",
        "/api/internal/integrations",
        "/api/internal/../internal/integrations",
        "/api//internal/knowledge",
    ):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url + path, timeout=10)
        assert refused.value.code == 404, path
    with urllib.request.urlopen(url + "/api/health", timeout=10) as answer:
        assert answer.status == 200  # the rest of /api still reaches the api
