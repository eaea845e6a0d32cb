"""Writing files safely: no write ever lands on an input, every write is atomic.

    guard = InputGuard(timeline.media_paths() + [storyboard, template, rules_file])
    guard.check_all([video, poster, srt, vtt, report])     # before any work: UsageError naming both files
    replace_into(tmp, final, guard)                        # at the end: checked again, then os.replace
    write_atomic(path, text_or_bytes)                      # a small file, whole or not at all
    with atomic_path(path) as tmp: image.save(tmp, ...)    # a writer that needs a file name

A path "is" an input when it resolves to the same file (os.path.samefile: hard links, symlinks,
`./` and `..` spellings) or to the same resolved path (an input that does not exist yet cannot be
compared by inode). Low-level: imports only errors and i18n.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

from kbvideo.errors import KbError, UsageError, excerpt
from kbvideo.i18n import _


def _resolved(path: str | os.PathLike) -> str:
    try:
        return os.path.realpath(path)
    except (OSError, ValueError):
        return os.path.abspath(path)


class InputGuard:
    """The files a command reads; `check(path)` refuses a write that would replace one of them."""

    def __init__(self, inputs: Iterable[str | os.PathLike] = ()):
        self.inputs: dict[str, str] = {}  # resolved path → as given (for messages)
        self.inodes: dict[tuple[int, int], str] = {}
        for path in inputs:
            self.add(path)

    def add(self, path: str | os.PathLike) -> None:
        if path is None:
            return
        given = os.fspath(path)
        self.inputs.setdefault(_resolved(given), given)
        try:
            st = os.stat(given)
        except (OSError, ValueError):
            return
        self.inodes.setdefault((st.st_dev, st.st_ino), given)

    def clash(self, path: str | os.PathLike) -> str | None:
        """The input that `path` would replace, or None."""
        name = os.fspath(path)
        found = self.inputs.get(_resolved(name))
        if found is not None:
            return found
        try:
            st = os.stat(name)
        except (OSError, ValueError):
            return None
        return self.inodes.get((st.st_dev, st.st_ino))

    def check(self, path: str | os.PathLike) -> None:
        found = self.clash(path)
        if found is not None:
            raise UsageError(
                _("refusing to write {path}: it is the same file as the input {input} (kbvideo never replaces an input)").format(
                    path=os.fspath(path), input=found),
                _("choose another output name or folder (-o); the poster, .srt, .vtt and .render.json are "
                  "named after the output"))

    def check_all(self, paths: Iterable[str | os.PathLike]) -> None:
        for path in paths:
            self.check(path)


def replace_into(tmp: str | os.PathLike, final: str | os.PathLike, guard: InputGuard | None = None) -> Path:
    """Move the finished `tmp` to `final` atomically (copy + rename across filesystems), guarded."""
    if guard is not None:
        guard.check(final)
    try:
        os.replace(tmp, final)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        part = f"{os.fspath(final)}.part-{os.getpid()}"
        try:
            shutil.copyfile(tmp, part)
            os.replace(part, final)
        except BaseException:
            Path(part).unlink(missing_ok=True)
            raise
        Path(tmp).unlink(missing_ok=True)
    return Path(final)


@contextlib.contextmanager
def atomic_path(final: str | os.PathLike, *, guard: InputGuard | None = None, suffix: str = ".tmp",
                mode: int = 0o644) -> Iterator[Path]:
    """A fresh temporary file beside `final` to write into; when the block ends without an error it
    replaces `final` (replace_into, guarded), otherwise it is removed. The one way kbvideo writes a
    file atomically: a crash or Ctrl-C never leaves a half-written file under the final name.

    `suffix` is the temporary name's ending (writers that pick a format by the name want the final
    suffix); the file gets `mode` (mkstemp would leave it 0600)."""
    final = Path(final)
    fd, name = tempfile.mkstemp(prefix=f".{final.name[:60]}.", suffix=suffix, dir=final.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, mode)
        replace_into(tmp, final, guard)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomic(final: str | os.PathLike, data: str | bytes, *, guard: InputGuard | None = None,
                 encoding: str = "utf-8", errors: str = "strict", newline: str | None = None) -> Path:
    """Write `data` (text or bytes) to `final` whole or not at all (see atomic_path)."""
    with atomic_path(final, guard=guard) as tmp:
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            with open(tmp, "w", encoding=encoding, errors=errors, newline=newline) as handle:
                handle.write(data)
    return Path(final)


FULL_ERRNOS = {errno.ENOSPC: "full", errno.EFBIG: "limit", getattr(errno, "EDQUOT", -1): "full"}


def disk_error(exc: OSError, what: str) -> KbError | None:
    """A clear KbError for a disk-full or file-size-limit OSError raised while `what`, else None."""
    kind = FULL_ERRNOS.get(exc.errno or 0)
    where = exc.filename or ""
    if kind == "full":
        return KbError(_("the disk is full while {what} ({path})").format(what=what, path=where),
                       _("free some space, or write the output (-o) and the cache (KBVIDEO_CACHE_DIR) to another disk"))
    if kind == "limit":
        return KbError(_("a file size limit was reached while {what} ({path})").format(what=what, path=where),
                       _("a 'ulimit -f' limit or the disk's largest file size (4 GB on FAT32 USB disks) was hit: "
                         "raise the limit or write to another disk"))
    return None


def prepare_cache_dir(folder: str | os.PathLike) -> Path:
    """Create (if needed) and return a cache folder that can be written, or raise UsageError saying why
    (it is a file, a read-only place, a name too long, ...). For writers that need their cache, such as
    render; readers like ProbeCache just run without one."""
    path = Path(folder)
    shown = excerpt(path, 200)
    hint = _("delete or rename it, or set KBVIDEO_CACHE_DIR to a folder you can write")
    try:
        if path.exists() and not path.is_dir():
            raise UsageError(_("the cache folder {path} is a file, not a folder").format(path=shown), hint=hint)
        path.mkdir(parents=True, exist_ok=True)
        fd, probe_file = tempfile.mkstemp(dir=path, prefix=".write-test-")
        os.close(fd)
        os.unlink(probe_file)
    except UsageError:
        raise
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise UsageError(_("cannot use the cache folder {path}: {reason}").format(path=shown, reason=reason),
                         hint=hint) from None
    return path
