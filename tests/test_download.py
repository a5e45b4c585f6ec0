"""The verified download cache, tested against a local HTTP server and file:// URLs."""

from __future__ import annotations

import hashlib
import http.server
import io
import logging
import threading
import zipfile
from pathlib import Path

import pytest

from fairx.data import DatasetError, RemoteFile, data_home, fetch_file, file_hash

CONTENT = b"a,b\n1,2\n3,4\n"
SHA = hashlib.sha256(CONTENT).hexdigest()

needs_data = pytest.mark.needs_data


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):  # noqa: N802
        if self.path.startswith("/truncated"):
            # promise 10,000 bytes, send 10, hang up: the client sees an incomplete read
            self.send_response(200)
            self.send_header("Content-Length", "10000")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture()
def server(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    (root / "toy.csv").write_bytes(CONTENT)
    (root / "other.csv").write_bytes(b"something else\n")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("inner/toy.csv", CONTENT)
    (root / "bundle.zip").write_bytes(buf.getvalue())

    def handler(*a, **k):
        return _Handler(*a, directory=str(root), **k)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_missing_file_is_downloaded_verified_and_cached(server, tmp_path):
    home = tmp_path / "cache"
    remote = RemoteFile("toy/toy.csv", f"{server}/toy.csv", SHA)
    path = fetch_file(remote, home=home, progress=True)
    assert path == home / "toy" / "toy.csv"
    assert path.read_bytes() == CONTENT
    assert _leftovers(home / "toy") == ["toy.csv"]  # no temporary file left behind
    # second call: served from the cache, the (now unreachable) URL is never contacted
    offline = RemoteFile("toy/toy.csv", "http://127.0.0.1:9/nothing", SHA)
    assert fetch_file(offline, home=home) == path


def test_download_with_wrong_hash_is_rejected(server, tmp_path):
    home = tmp_path / "cache"
    remote = RemoteFile("toy/toy.csv", f"{server}/other.csv", SHA)
    with pytest.raises(DatasetError) as err:
        fetch_file(remote, home=home)
    got = hashlib.sha256(b"something else\n").hexdigest()
    assert SHA in str(err.value) and got in str(err.value)
    assert not (home / "toy" / "toy.csv").exists()  # never used
    assert _leftovers(home / "toy") == ["toy.csv.corrupt"]


def test_corrupted_cache_is_reported_and_refetched(server, tmp_path, caplog):
    home = tmp_path / "cache"
    target = home / "toy" / "toy.csv"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"a,b\n1,2\n3,5\n")  # one byte flipped
    bad = file_hash(target)
    remote = RemoteFile("toy/toy.csv", f"{server}/toy.csv", SHA)
    with caplog.at_level(logging.WARNING, logger="fairx.data._download"):
        path = fetch_file(remote, home=home)
    assert path.read_bytes() == CONTENT
    message = caplog.text
    assert str(target) in message and SHA in message and bad in message


def test_corrupted_cache_without_download_raises(tmp_path):
    target = tmp_path / "toy" / "toy.csv"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"garbage")
    with pytest.raises(DatasetError, match="corrupted"):
        fetch_file(RemoteFile("toy/toy.csv", "http://127.0.0.1:9/x", SHA), home=tmp_path,
                   download=False)


def test_failed_download_leaves_no_partial_file(server, tmp_path):
    home = tmp_path / "cache"
    remote = RemoteFile("toy/toy.csv", f"{server}/truncated", SHA)
    with pytest.raises(DatasetError, match="could not download"):
        fetch_file(remote, home=home)
    assert _leftovers(home / "toy") == []


def test_offline_error_says_which_file_to_put_where(tmp_path):
    remote = RemoteFile("toy/toy.csv", "http://127.0.0.1:9/toy.csv", SHA)  # port 9: nothing listens
    with pytest.raises(DatasetError) as err:
        fetch_file(remote, home=tmp_path)
    text = str(err.value)
    assert str(tmp_path / "toy" / "toy.csv") in text
    assert "http://127.0.0.1:9/toy.csv" in text and SHA in text and "FAIRX_DATA_HOME" in text
    assert not (tmp_path / "toy").exists()  # nothing left behind, not even an empty folder


def test_missing_file_with_download_false(tmp_path):
    with pytest.raises(DatasetError, match="not in the cache"):
        fetch_file(RemoteFile("toy/toy.csv", "http://127.0.0.1:9/x", SHA), home=tmp_path,
                   download=False)


def test_file_url_and_zip_member(server, tmp_path):
    src = tmp_path / "src.csv"
    src.write_bytes(CONTENT)
    path = fetch_file(RemoteFile("a/toy.csv", src.as_uri(), SHA), home=tmp_path / "c1")
    assert path.read_bytes() == CONTENT
    zipped = RemoteFile("b/toy.csv", f"{server}/bundle.zip", SHA, member="toy.csv")
    path = fetch_file(zipped, home=tmp_path / "c2")
    assert path.read_bytes() == CONTENT
    assert _leftovers(path.parent) == ["toy.csv"]  # the archive itself is not kept
    with pytest.raises(DatasetError, match="no member 'absent.csv'"):
        fetch_file(RemoteFile("d/absent.csv", f"{server}/bundle.zip", SHA, member="absent.csv"),
                   home=tmp_path / "c3")


def test_md5_pin(server, tmp_path):
    remote = RemoteFile("m/toy.csv", f"{server}/toy.csv", md5=hashlib.md5(CONTENT).hexdigest())
    assert fetch_file(remote, home=tmp_path).read_bytes() == CONTENT


def test_data_home_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv("FAIRX_DATA_HOME", str(tmp_path))
    assert data_home() == tmp_path
    assert data_home(tmp_path / "x") == tmp_path / "x"
    monkeypatch.delenv("FAIRX_DATA_HOME")
    assert data_home().name == "fairx"


@needs_data("SHA256SUMS")
def test_shared_copies_pass_their_pins(data_home):
    """Every built-in's pinned hash matches the offline copy (the SHA256SUMS of the folder)."""
    from fairx.data import _adult, _bank, _compas, _credit, _dutch, _german, _law, _student

    remotes = [*_adult.FILES.values(), *_student.FILES.values(), _bank.FILE, _compas.FILE,
               _credit.FILE, _dutch.FILE, _german.FILE, _law.FILE]
    sums = {name.strip(): digest for digest, name in
            (line.split(None, 1) for line in (data_home / "SHA256SUMS").read_text().splitlines()
             if line.strip())}
    for r in remotes:
        assert fetch_file(r, download=False) == data_home / r.relpath
        assert sums[r.relpath] == r.sha256
