"""`memgym data fetch` against a local HTTP server (never the internet)."""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from memgym.cli import main
from memgym.data import sample_path
from memgym.data.fetch import FetchError, fetch

# A real LoCoMo file: fetch keeps only what parses as the dataset it asked for.
PAYLOAD = sample_path("locomo").read_bytes()


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/cut":
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD[:100])
            return
        if self.path == "/to-ftp":
            self.send_response(302)
            self.send_header("Location", "ftp://127.0.0.1/locomo10.json")
            self.end_headers()
            return
        if self.path != "/locomo10.json":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        self.wfile.write(PAYLOAD)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_download_verifies_checksum_and_writes_final_file(server: str, tmp_path: Path) -> None:
    digest = hashlib.sha256(PAYLOAD).hexdigest()
    path = fetch("locomo", url=f"{server}/locomo10.json", sha256=digest, dest_dir=tmp_path)
    assert path == tmp_path / "locomo10.json"
    assert path.read_bytes() == PAYLOAD
    assert [p.name for p in tmp_path.iterdir()] == ["locomo10.json"]


def test_checksum_mismatch_leaves_no_file(server: str, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="does not match"):
        fetch("locomo", url=f"{server}/locomo10.json", sha256="0" * 64, dest_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_http_error_and_short_read_leave_no_file(server: str, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="failed"):
        fetch("locomo", url=f"{server}/missing", dest_dir=tmp_path)
    with pytest.raises(FetchError, match="failed"):
        fetch("locomo", url=f"{server}/cut", dest_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_existing_file_is_kept_and_data_dir_comes_from_env(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MEMGYM_DATA", str(tmp_path))
    assert main(["data", "fetch", "locomo", "--url", f"{server}/locomo10.json"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "locomo10.json")
    # A second fetch with a dead address succeeds from the file already there.
    assert fetch("locomo", url=f"{server}/missing") == tmp_path / "locomo10.json"


def test_unknown_name() -> None:
    with pytest.raises(FetchError, match="unknown dataset"):
        fetch("locomo11")


@pytest.mark.parametrize(
    "url", ["file:///etc/hostname", "ftp://127.0.0.1/locomo10.json", "/to-ftp"]
)
def test_only_web_addresses_are_fetched(url: str, server: str, tmp_path: Path) -> None:
    address = server + url if url.startswith("/") else url  # a redirect to ftp included
    with pytest.raises(FetchError, match="not an http"):
        fetch("locomo", url=address, dest_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []
