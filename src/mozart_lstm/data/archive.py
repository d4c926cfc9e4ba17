"""Getting the MIDI files: download the lab's archive (HTTPS, timeout, retry, sha256), extract it safely."""

import contextlib
import hashlib
import http.client
import logging
import os
import shutil
import tarfile
import tempfile
import time
import urllib.request
from pathlib import Path

from labtools.errors import UserError
from labtools.fileio import atomic_path

log = logging.getLogger(__name__)

LAB_URL = "https://raw.githubusercontent.com/Foundations-of-Applied-Mathematics/Data/master/RNN/mozart_sonatas.tar.gz"
LAB_SHA256 = "7cf333447ad44a76e6498af2f67c669558b63067ca91edf94f5bb37830e86d6e"
MIDI_SUFFIXES = {".mid", ".midi"}


def sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_sha256(path, expected: str | None, name=None) -> str:
    """The file's sha256, checked against `expected` unless that is None; `name` is what the user knows it by."""
    actual = sha256_of(path)
    if expected and actual != expected:
        raise UserError(
            f"{name or path}: sha256 {actual} does not match the expected {expected}. "
            "The file is corrupt or not the lab's archive: download it again, "
            "or pass data.sha256=null to use a different archive on purpose."
        )
    return actual


def download(url: str, dest, sha256: str | None, tries: int = 3, timeout: float = 30.0) -> Path:
    """Fetch `url` to `dest` atomically; a file already there with the right checksum is kept."""
    dest = Path(dest)
    if dest.exists() and (not sha256 or sha256_of(dest) == sha256):
        return dest
    if not url.startswith("https://"):
        raise UserError(f"data.url must be an https:// address, got {url!r}")
    last_error = None
    for attempt in range(1, tries + 1):
        try:
            log.info("Downloading %s (try %d of %d)", url, attempt, tries)
            with atomic_path(dest) as tmp, urllib.request.urlopen(url, timeout=timeout) as response:
                _copy_with_progress(response, tmp, int(response.headers.get("Content-Length") or 0))
                verify_sha256(tmp, sha256, name=url)
            return dest
        except (OSError, http.client.HTTPException) as err:  # network trouble, a connection cut mid-transfer
            last_error = err
            if attempt < tries:
                time.sleep(min(2**attempt, 10))
    raise UserError(
        f"Could not download {url} ({last_error}). If you are offline, download it elsewhere and pass "
        "data.archive=PATH (a .tar.gz or a folder of .mid files)."
    )


def _copy_with_progress(response, path: Path, total: int) -> None:
    done, next_report = 0, 0.0
    with open(path, "wb") as out:
        for block in iter(lambda: response.read(1 << 16), b""):
            out.write(block)
            done += len(block)
            if total and done / total >= next_report:
                log.info("  %3.0f%% of %d KB", 100 * done / total, total // 1024)
                next_report += 0.25


def extract(archive, target_root, digest: str) -> Path:
    """Extract a .tar.gz into its own folder under target_root, once. Members may not leave that folder."""
    archive = Path(archive)
    target = Path(target_root) / f"{archive.name.split('.')[0]}-{digest[:12]}"
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # A private staging folder, renamed into place at the end: concurrent runs never see half an extraction.
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(staging, filter=_inside_only)
        with contextlib.suppress(OSError):  # another run finished first: use its copy
            staging.rename(target)
    except tarfile.FilterError as err:
        raise UserError(f"{archive}: refused an unsafe member ({err}). The archive is not trustworthy.") from err
    except (tarfile.TarError, EOFError, OSError) as err:
        raise UserError(f"{archive}: not a readable .tar.gz ({err}). Pass a .tar.gz or a MIDI folder.") from err
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _inside_only(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo:
    """The "data" filter (PEP 706) refuses ../ members, links that point outside and special files; it would
    quietly extract an absolute path below dest, but such a member means the archive was not made for us."""
    if member.name.startswith(("/", os.sep)):
        raise tarfile.AbsolutePathError(member)
    return tarfile.data_filter(member, dest)


def midi_files(archive, sha256: str | None, url: str, data_dir, max_files: int | None = None) -> list[Path]:
    """The MIDI files to use, sorted by name: from a folder, a local .tar.gz, or the lab's download."""
    if archive is None:
        downloaded = download(url, Path(data_dir) / Path(url).name, sha256)
        folder = extract(downloaded, data_dir, sha256_of(downloaded))
    else:
        archive = Path(archive).expanduser()
        if archive.is_dir():
            folder = archive
        elif archive.is_file():
            folder = extract(archive, data_dir, verify_sha256(archive, sha256))
        else:
            raise UserError(f"data.archive={archive}: no such file or folder. Pass a .tar.gz or a MIDI folder.")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in MIDI_SUFFIXES and p.is_file())
    if not files:
        raise UserError(f"{folder}: no .mid or .midi files found. Point data.archive at a folder of MIDI files.")
    return files[:max_files] if max_files else files
