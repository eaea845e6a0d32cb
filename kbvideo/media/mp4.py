"""MP4/MOV facts read from the box structure alone, no media data decoded: the top-level boxes
(fast start: moov before mdat; truncation: a box that claims more than the file holds) and each
track's display matrix (the rotation of phone footage)."""

from __future__ import annotations

import math

from kbvideo.errors import MediaError
from kbvideo.i18n import N_, _

HINT_COPY_AGAIN = N_("the file did not finish copying or recording; copy it again from the phone or camera, "
                     "or re-export it")
MOV_TOP_LEVEL = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid", b"moof", b"mfra",
                 b"styp", b"sidx", b"meta", b"pdin", b"prft", b"emsg"}


def mov_boxes(name: str, file_size: int) -> list[tuple[bytes, int, int]] | None:
    """(type, offset, size) of each top-level box, or None when the file is not MP4/MOV-shaped."""
    boxes: list[tuple[bytes, int, int]] = []
    with open_readable(name) as handle:
        offset = 0
        while offset < file_size:
            handle.seek(offset)
            header = handle.read(16)
            if len(header) < 8:
                boxes.append((b"?", offset, file_size - offset))  # a torn box header at the end
                break
            size = int.from_bytes(header[:4], "big")
            kind = header[4:8]
            if not boxes and kind not in MOV_TOP_LEVEL:
                return None
            if size == 1 and len(header) >= 16:
                size = int.from_bytes(header[8:16], "big")
            elif size == 0:
                size = file_size - offset
            if size < 8:
                return boxes or None
            boxes.append((kind, offset, size))
            offset += size
    return boxes


def check_mov_boxes(name: str, boxes: list[tuple[bytes, int, int]], file_size: int) -> bool | None:
    """Raise for a missing index or a box cut short; return faststart (moov before mdat)."""
    kinds = [kind for kind, _, _ in boxes]
    last_kind, last_offset, last_size = boxes[-1]
    cut = last_offset + last_size > file_size
    if b"moov" not in kinds and b"moof" not in kinds:
        why = _("the file stops before its end") if cut else _("the recording or render did not finish")
        raise MediaError(name, _("MP4/MOV index (moov box) is missing: {why}").format(why=why), _(HINT_COPY_AGAIN))
    if cut:
        claimed = last_offset + last_size
        raise MediaError(name, _("file is truncated: it is {megabytes} but its '{decode}' box claims {megabytes2}").format(megabytes=megabytes(file_size), decode=last_kind.decode('latin-1'), megabytes2=megabytes(claimed)), _(HINT_COPY_AGAIN), reason="truncated")
    if b"mdat" not in kinds:
        return True
    return kinds.index(b"moov") < kinds.index(b"mdat") if b"moov" in kinds else True


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size} bytes"


def _child_boxes(data: bytes, start: int = 0, end: int | None = None):
    """(type, body_start, body_end) of the boxes inside data[start:end]."""
    end = len(data) if end is None else end
    offset = start
    while offset + 8 <= end:
        size = int.from_bytes(data[offset:offset + 4], "big")
        kind = data[offset + 4:offset + 8]
        header = 8
        if size == 1 and offset + 16 <= end:
            size, header = int.from_bytes(data[offset + 8:offset + 16], "big"), 16
        elif size == 0:
            size = end - offset
        if size < header or offset + size > end:
            return
        yield kind, offset + header, offset + size
        offset += size


def mov_rotations(name: str, boxes: list[tuple[bytes, int, int]]) -> dict[int, float]:
    """Track id → the tkhd display matrix's counter-clockwise rotation in degrees (what ffmpeg reports).

    Reading the matrix here saves decoding a frame to learn the rotation.
    """
    moov = next(((offset, size) for kind, offset, size in boxes if kind == b"moov"), None)
    if moov is None or moov[1] > 256_000_000:
        return {}
    with open_readable(name) as handle:
        handle.seek(moov[0])
        data = handle.read(moov[1])
    rotations: dict[int, float] = {}
    for kind, start, end in _child_boxes(data, 8 if data[:4] != b"\x00\x00\x00\x01" else 16):
        if kind != b"trak":
            continue
        for child, body, body_end in _child_boxes(data, start, end):
            if child != b"tkhd" or body_end - body < 84:
                continue
            version = data[body]
            track_id_at = body + (20 if version == 1 else 12)
            matrix_at = body + (4 + 32 + 16 if version == 1 else 4 + 20 + 16)
            if matrix_at + 36 > body_end:
                continue
            track_id = int.from_bytes(data[track_id_at:track_id_at + 4], "big")
            a = int.from_bytes(data[matrix_at:matrix_at + 4], "big", signed=True)
            b = int.from_bytes(data[matrix_at + 4:matrix_at + 8], "big", signed=True)
            rotations[track_id] = -math.degrees(math.atan2(b, a)) if (a or b) else 0.0
    return rotations


def open_readable(name: str):
    try:
        return open(name, "rb")
    except PermissionError:
        raise MediaError(name, _("cannot be read (permission denied)"), _("fix the file's permissions")) from None
    except OSError as exc:
        raise MediaError(name, _("cannot be read ({value})").format(value=exc.strerror or exc)) from None
