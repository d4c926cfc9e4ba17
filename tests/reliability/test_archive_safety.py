"""The archive: a wrong checksum, unsafe tar members, a file that is no tar, and the download (HTTPS only, sha256
checked, written atomically, retried), all without network: urlopen is replaced by a fake."""

import hashlib
import http.client
import io
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from labtools.errors import UserError
from mozart_lstm.data import archive, load_pieces

URL = "https://example.org/data/sonatas.tar.gz"


def add_member(tar: tarfile.TarFile, name: str, data: bytes = b"", **fields) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in fields.items():
        setattr(info, key, value)
    tar.addfile(info, io.BytesIO(data))


def tar_of(path: Path, midi: bytes, *extra: tuple) -> Path:
    """A .tar.gz holding one good MIDI file, then the extra (name, fields) members."""
    with tarfile.open(path, "w:gz") as tar:
        add_member(tar, "sonatas/good.mid", midi)
        for name, fields in extra:
            add_member(tar, name, b"MThd" if "type" not in fields else b"", **fields)
    return path


@pytest.fixture
def midi_bytes(midi_dir) -> bytes:
    return (midi_dir / "piece_0.mid").read_bytes()


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def test_a_wrong_checksum_names_the_file_and_what_to_do(tmp_path, midi_bytes):
    corpus = tar_of(tmp_path / "sonatas.tar.gz", midi_bytes)
    with pytest.raises(UserError) as caught:
        load_pieces(corpus, sha256="0" * 64, cache_dir=tmp_path / "cache", data_dir=tmp_path / "data")
    message = str(caught.value)
    assert str(corpus) in message and "data.sha256=null" in message and "download it again" in message
    assert files_under(tmp_path / "data") == []  # nothing extracted from an archive that failed its check


UNSAFE = {
    "parent_dir": lambda outside: ("../outside/escaped.mid", {}),
    "absolute_path": lambda outside: (f"{outside}/absolute.mid", {}),
    "symlink_out": lambda outside: ("sonatas/link.mid", {"type": tarfile.SYMTYPE, "linkname": "../../outside/x"}),
    "symlink_absolute": lambda outside: ("sonatas/abs.mid", {"type": tarfile.SYMTYPE, "linkname": f"{outside}/x"}),
    "hardlink_out": lambda outside: ("sonatas/hard.mid", {"type": tarfile.LNKTYPE, "linkname": "../outside/x"}),
    "symlinked_dir": lambda outside: ("sonatas/dir", {"type": tarfile.SYMTYPE, "linkname": str(outside)}),
}


@pytest.mark.parametrize("kind", UNSAFE)
def test_an_unsafe_member_is_refused_and_nothing_is_written_outside(tmp_path, midi_bytes, kind):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x").write_text("a file the archive must not touch")
    members = [UNSAFE[kind](outside)]
    if kind == "symlinked_dir":  # then write through the link
        members.append(("sonatas/dir/through_link.mid", {}))
    corpus = tar_of(tmp_path / "evil.tar.gz", midi_bytes, *members)
    data_dir = tmp_path / "data"

    with pytest.raises(UserError, match="unsafe member") as caught:
        load_pieces(corpus, sha256=None, cache_dir=tmp_path / "cache", data_dir=data_dir)
    assert str(corpus) in str(caught.value)
    assert files_under(outside) == ["x"] and (outside / "x").read_text() == "a file the archive must not touch"
    assert files_under(data_dir) == []  # no half extraction left behind, not even the good member
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "evil.tar.gz", "outside"]


@pytest.mark.parametrize("kind", ["text", "truncated", "empty"])
def test_a_file_that_is_no_tar_gives_one_clear_error(tmp_path, midi_bytes, kind):
    corpus = tmp_path / "sonatas.tar.gz"
    if kind == "text":
        corpus.write_text("<html>404 Not Found</html>\n")
    elif kind == "truncated":
        good = tar_of(tmp_path / "good.tar.gz", midi_bytes).read_bytes()
        corpus.write_bytes(good[: len(good) // 2])
    else:
        corpus.write_bytes(b"")
    with pytest.raises(UserError, match="not a readable .tar.gz") as caught:
        load_pieces(corpus, sha256=None, cache_dir=tmp_path / "cache", data_dir=tmp_path / "data")
    assert str(corpus) in str(caught.value)
    assert files_under(tmp_path / "data") == []


def test_a_missing_archive_is_one_clear_error(tmp_path):
    with pytest.raises(UserError, match="no such file or folder"):
        load_pieces(tmp_path / "nowhere.tar.gz", cache_dir=tmp_path / "cache", data_dir=tmp_path / "data")


class FakeResponse(io.BytesIO):
    """What urlopen returns: a readable body with headers; `cut_after` bytes in, the connection drops."""

    def __init__(self, body: bytes, cut_after: int | None = None):
        super().__init__(body)
        self.headers = {"Content-Length": str(len(body))}
        self.cut_after = cut_after

    def read(self, size=-1):
        if self.cut_after is not None and self.tell() >= self.cut_after:
            raise http.client.IncompleteRead(b"", len(self.getvalue()) - self.tell())
        return super().read(size if self.cut_after is None else min(size, self.cut_after - self.tell()))


@pytest.fixture
def server(monkeypatch):
    """server(*replies): urlopen answers each call with the next reply (bytes, a FakeResponse, or an exception).
    Returns the list of (url, timeout) calls; sleeps between retries are recorded in server.sleeps."""
    calls, sleeps = [], []

    def serve(*replies):
        queue = list(replies)

        def urlopen(url, timeout=None):
            calls.append((url, timeout))
            reply = queue.pop(0)
            if isinstance(reply, Exception):
                raise reply
            return reply if isinstance(reply, FakeResponse) else FakeResponse(reply)

        monkeypatch.setattr(urllib.request, "urlopen", urlopen)
        monkeypatch.setattr(archive.time, "sleep", sleeps.append)
        return calls

    serve.sleeps = sleeps
    return serve


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_download_refuses_a_plain_http_address(tmp_path, server):
    calls = server()
    with pytest.raises(UserError, match=r"data\.url must be an https://"):
        archive.download("http://example.org/sonatas.tar.gz", tmp_path / "s.tar.gz", sha256=None)
    assert calls == [] and not (tmp_path / "s.tar.gz").exists()


def test_download_checks_sha256_and_writes_atomically(tmp_path, server):
    body = b"the archive's bytes" * 1000
    calls = server(body)
    dest = archive.download(URL, tmp_path / "s.tar.gz", sha256=sha(body))
    assert dest.read_bytes() == body
    assert calls == [(URL, 30.0)]  # always with a timeout
    assert files_under(tmp_path) == ["s.tar.gz"]  # no temp file left beside it

    archive.download(URL, dest, sha256=sha(body))  # already there and intact: no second download
    assert len(calls) == 1


def test_download_with_wrong_bytes_is_refused_and_not_kept(tmp_path, server):
    calls = server(b"an HTML error page instead of the archive")
    with pytest.raises(UserError) as caught:
        archive.download(URL, tmp_path / "s.tar.gz", sha256=sha(b"the real archive"))
    assert URL in str(caught.value) and "data.sha256=null" in str(caught.value)
    assert len(calls) == 1  # the bytes are wrong, not the network: retrying would not help
    assert files_under(tmp_path) == []


def test_a_corrupt_earlier_download_is_replaced(tmp_path, server):
    body = b"the real archive"
    (tmp_path / "s.tar.gz").write_bytes(b"the real arch")  # cut short by an older, non-atomic tool
    server(body)
    assert archive.download(URL, tmp_path / "s.tar.gz", sha256=sha(body)).read_bytes() == body


def test_a_connection_cut_mid_transfer_is_retried_without_a_partial_file(tmp_path, server):
    body = bytes(range(256)) * 1024
    calls = server(FakeResponse(body, cut_after=100_000), TimeoutError("timed out"), body)
    dest = archive.download(URL, tmp_path / "s.tar.gz", sha256=sha(body))
    assert dest.read_bytes() == body and len(calls) == 3
    assert server.sleeps == [2, 4]  # backing off between tries
    assert files_under(tmp_path) == ["s.tar.gz"]


def test_download_failing_every_time_says_to_pass_a_local_archive(tmp_path, server):
    calls = server(*[urllib.error.URLError("Name or service not known")] * 3)
    with pytest.raises(UserError, match=r"data\.archive=PATH") as caught:
        archive.download(URL, tmp_path / "s.tar.gz", sha256=None)
    assert URL in str(caught.value) and "Name or service not known" in str(caught.value)
    assert len(calls) == 3 and len(server.sleeps) == 2  # no pointless wait after the last try
    assert files_under(tmp_path) == []


def test_downloaded_archive_is_extracted_and_its_midi_files_found(tmp_path, server, midi_bytes):
    body = tar_of(tmp_path / "built.tar.gz", midi_bytes).read_bytes()
    server(body)
    files = archive.midi_files(None, sha(body), URL, tmp_path / "data")
    assert [f.name for f in files] == ["good.mid"] and files[0].read_bytes() == midi_bytes
    assert files[0].is_relative_to(tmp_path / "data")
