"""Hand-written input files → text, or a located SpecError a user can act on.

Refused: files that are missing (a name that differs only by Unicode normalisation, as copied from
a Mac, is found anyway), unreadable, not regular files (a FIFO, /dev/zero), larger than MAX_BYTES,
not UTF-8 (UTF-16 and UTF-32 files are named as such) or holding a NUL byte. Used by
kbvideo.storyboard.load for YAML and by other readers of hand-written files (rules profiles, rosters).
"""

from __future__ import annotations

import errno
import os
import stat
import unicodedata
from pathlib import Path

from kbvideo.errors import Problem, SpecError
from kbvideo.i18n import N_, _

MAX_BYTES = 5 * 1024 * 1024


HINT_UTF8 = N_("save the file as UTF-8 (in most editors: Save with encoding → UTF-8)")


def _wide_encoding(data: bytes) -> str | None:
    """'UTF-16 (…)' / 'UTF-32 (…)' when the bytes look like one (by BOM, else by where the zero bytes are)."""
    for bom, name in ((b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"), (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
                      (b"\xff\xfe", "UTF-16 (little-endian)"), (b"\xfe\xff", "UTF-16 (big-endian)")):
        if data.startswith(bom):
            return name
    sample = data[:4096]
    if len(sample) < 4 or b"\x00" not in sample:
        return None
    even = sample[0::2].count(0) / max(1, len(sample[0::2]))
    odd = sample[1::2].count(0) / max(1, len(sample[1::2]))
    if sample[0::4].count(0) == sample[1::4].count(0) == sample[2::4].count(0) == len(sample) // 4 and even > 0.9:
        return "UTF-32 (big-endian)"
    if odd > 0.9 and sample[1::4].count(0) == sample[2::4].count(0) == sample[3::4].count(0) == len(sample) // 4:
        return "UTF-32 (little-endian)"
    if even > 0.3 and odd < 0.05:
        return "UTF-16 (big-endian)"
    if odd > 0.3 and even < 0.05:
        return "UTF-16 (little-endian)"
    return None


def decode(data: bytes, label: str) -> str:
    if len(data) > MAX_BYTES:
        raise SpecError(Problem(label, 1, 1, _("file is {size} bytes; a storyboard should be far smaller").format(
            size=len(data)), _("is this the right file?")))
    wide = _wide_encoding(data)
    if wide:
        raise SpecError(Problem(label, 1, 1, _("file is saved as {encoding}, not UTF-8").format(encoding=wide),
                                _(HINT_UTF8)))
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        start = before.rfind(b"\n") + 1
        col = len(data[start:exc.start].decode("utf-8", "replace")) + 1
        end = data.find(b"\n", exc.start)
        text_line = data[start:end if end >= 0 else len(data)].decode("utf-8", "replace")
        raise SpecError(Problem(label, line, col, _("file is not UTF-8 (byte 0x{byte:02x})").format(
            byte=data[exc.start]), _(HINT_UTF8), text_line)) from None
    if "\x00" in text:
        index = text.index("\x00")
        line = text.count("\n", 0, index) + 1
        col = index - (text.rfind("\n", 0, index) + 1) + 1
        raise SpecError(Problem(label, line, col, _("file holds a NUL (zero) byte: it is not a text file"),
                                _("is this the right file? A storyboard is plain text saved as UTF-8")))
    return text


def os_reason(exc: OSError) -> str:
    """Why a path could not be used, in words a user can act on (never a traceback)."""
    reasons = {
        errno.ENAMETOOLONG: _("the name is too long for this file system"),
        errno.ELOOP: _("too many levels of symbolic links (a link that points to itself?)"),
        errno.EACCES: _("permission denied"),
        errno.EPERM: _("permission denied"),
        errno.EISDIR: _("it is a folder, not a file"),
        errno.ENOTDIR: _("a part of the path is a file, not a folder"),
        errno.ENOENT: _("not found"),
    }
    return reasons.get(exc.errno) or exc.strerror or type(exc).__name__


def normalised_path(path: str | Path) -> Path | None:
    """The existing file that `path` names up to Unicode normalisation (a name copied from a Mac is NFD:
    'e' + U+0301 instead of 'é'), else None. Each missing part is matched against its folder's entries."""
    path = Path(path)
    if not any(ord(c) > 127 for c in str(path)):
        return None
    current = Path(path.anchor) if path.is_absolute() else Path(".")
    for part in path.parts[len(path.parts[:1]) if path.is_absolute() else 0:]:
        candidate = current / part
        try:
            if candidate.exists() or part in (".", ".."):
                current = candidate
                continue
            wanted = unicodedata.normalize("NFC", part)
            match = next((entry for entry in os.listdir(current)
                          if unicodedata.normalize("NFC", entry) == wanted), None)
        except (OSError, ValueError):
            return None
        if match is None:
            return None
        current = current / match
    return current if current != Path(".") else None


def read_text(path: str | Path, label: str | None = None, what: str = "file") -> str:
    """A hand-written input file as text: missing, unreadable or non-UTF-8 files are located SpecErrors."""
    label = label or str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not block the open
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):  # /dev/zero, a FIFO: never read forever
                raise SpecError(Problem(label, 1, 1, _("{what} is not a regular file").format(what=what)))
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        other = normalised_path(path)
        if other is None:
            raise SpecError(Problem(label, 1, 1, _("{what} not found").format(what=what))) from None
        return read_text(other, label, what)
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
        reason = os_reason(exc) if isinstance(exc, OSError) else _("the name holds a NUL character")
        raise SpecError(Problem(label, 1, 1, _("cannot read {what}: {reason}").format(what=what, reason=reason))) from None
    return decode(data, label)
