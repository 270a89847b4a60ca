"""Writes that cannot half-happen: a file, a split-output directory, or stdout.

* A file is written to a temp file in the target's directory (same filesystem, so the rename is
  atomic), flushed and fsynced, and renamed over the target only after every byte was written.
  Any error removes the temp file and leaves the previous output untouched.
* A split output (``template.<ext>`` plus ``stacks/``) is written whole into a temp directory
  beside the target, then swapped in: the old ``stacks/`` is moved aside, the new one moved in,
  the parent template replaced atomically, the old ``stacks/`` removed. Nothing else in the target
  directory is touched; a failure before the swap changes nothing.
* stdout: write errors (closed stdout, a full device, a reader that went away) are reported, never
  swallowed, so `mlmon generate > /dev/full` or `| head -c 100` cannot look like success.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from .errors import InputFileError

__all__ = ["OutputError", "write_directory", "write_file", "write_stdout"]


class OutputError(InputFileError):
    """Raised when output cannot be written completely; the previous output is left as it was."""


def _describe(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:  # pragma: no cover - os.write raises rather than returning 0 on a regular file
            raise OSError(28, "no space left on device")
        view = view[written:]


def _temp_file(directory: Path, name: str, data: bytes) -> Path:
    """Write `data` to a fresh temp file in `directory`, fsynced; remove it again on any error."""
    fd, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        _unlink(Path(temp))
        raise
    return Path(temp)


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def write_file(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically. Raises OutputError; `path` is then unchanged."""
    data = text.encode("utf-8")
    directory = path.parent if str(path.parent) else Path(".")
    try:
        if path.is_dir():
            raise IsADirectoryError(21, "is a directory")
        temp = _temp_file(directory, path.name, data)
        try:
            mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask()
            os.chmod(temp, mode)
            os.replace(temp, path)
        except BaseException:
            _unlink(temp)
            raise
        _fsync_dir(directory)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {_describe(exc)}; the previous file (if any) is unchanged") from None


def write_directory(directory: Path, files: dict[str, str]) -> None:
    """Write a split output (`template.<ext>` and `stacks/<name>`) into `directory`, swapping it in whole.

    Raises OutputError; then `directory` holds exactly what it held before and no temp files.
    """
    parent_name = next(name for name in files if "/" not in name)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".mlmon-", suffix=".tmp", dir=directory))
    except OSError as exc:
        raise OutputError(f"{directory}: cannot write: {_describe(exc)}") from None
    old_stacks = directory / f".stacks.old-{staging.name}"
    try:
        try:
            (staging / "stacks").mkdir()
            for name, text in files.items():
                target = staging / name
                target.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
                try:
                    _write_all(fd, text.encode("utf-8"))
                    os.fsync(fd)
                finally:
                    os.close(fd)
            _fsync_dir(staging / "stacks")
            _swap(directory, staging, parent_name, old_stacks)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            shutil.rmtree(old_stacks, ignore_errors=True)
    except OSError as exc:
        raise OutputError(f"{directory}: cannot write: {_describe(exc)}; the previous output is unchanged") from None


def _swap(directory: Path, staging: Path, parent_name: str, old_stacks: Path) -> None:
    stacks = directory / "stacks"
    had_stacks = stacks.exists()
    if had_stacks:
        os.rename(stacks, old_stacks)
    try:
        os.rename(staging / "stacks", stacks)
        try:
            os.replace(staging / parent_name, directory / parent_name)
        except BaseException:
            os.rename(stacks, staging / "stacks")  # put the old stacks back
            raise
    except BaseException:
        if had_stacks:
            os.rename(old_stacks, stacks)
        raise
    _fsync_dir(directory)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on directories; the rename itself is still atomic
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_stdout(text: str) -> None:
    """Write `text` to stdout completely. Raises OutputError when stdout is closed or refuses the bytes."""
    stream = sys.stdout
    if stream is None:
        raise OutputError("stdout: cannot write: stdout is closed; use -o FILE")
    try:
        stream.flush()
        try:
            fd = stream.fileno()
        except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation: e.g. a test runner's capture
            fd = None
        if fd is None:
            stream.write(text)
            stream.flush()
        else:
            # os.write in a loop, not BufferedWriter: a reader leaving in the middle of one large
            # write() turns it into a short write that the buffer drops without an error.
            _write_all(fd, text.encode("utf-8"))
    except (OSError, ValueError) as exc:
        _detach_stdout()
        reason = "the reader closed the pipe" if isinstance(exc, BrokenPipeError) else (
            "stdout is closed" if isinstance(exc, ValueError) else _describe(exc))
        raise OutputError(f"stdout: cannot write: {reason}; the output is incomplete") from None


def _detach_stdout() -> None:
    """Point fd 1 at /dev/null so Python's exit-time flush cannot fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
