"""Where a recording speaks: the stretches of sound between its pauses.

The first audio stream is decoded with PyAV to 16 kHz mono, its level measured in 20-ms frames,
and a frame counts as speech when it is well above the recording's own noise floor (so a phone
recording in a noisy room works like a studio one; a fixed threshold such as silencedetect's
-35 dB does not). Pauses shorter than MIN_PAUSE (between words) are bridged; sounds shorter than
MIN_SOUND (a click) are dropped. Results are cached by path, size and modification time.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from kbvideo.errors import KbError
from kbvideo.fsutil import write_atomic
from kbvideo.i18n import _

RATE = 16000
FRAME = 0.020  # seconds
MIN_PAUSE = 0.18  # seconds of quiet that separate two stretches of speech
MIN_SOUND = 0.08
CACHE_FORMAT = 1


def _levels(path: str):
    """RMS level in dB of each 20-ms frame of the first audio stream."""
    import av
    import numpy as np

    chunks = []
    try:
        with av.open(path) as container:
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except (av.error.FFmpegError, IndexError, OSError) as exc:
        raise KbError(_("cannot read the narration {path}: {reason}").format(path=path, reason=exc),
                      _("export it again as .m4a, .mp3 or .wav")) from exc
    values = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    step = int(RATE * FRAME)
    count = len(values) // step
    rms = np.sqrt((values[: count * step].astype(np.float64).reshape(count, step) ** 2).mean(axis=1) + 1e-12)
    return 20 * np.log10(rms)


def detect_segments(levels, frame: float = FRAME) -> list[tuple[float, float]]:
    """(start, end) seconds of speech from per-frame levels in dB."""
    import numpy as np

    if len(levels) == 0:
        return []
    floor = float(np.percentile(levels, 10))
    loud = float(np.percentile(levels, 95))
    if loud - floor < 10:  # no pauses to tell apart: one stretch, or silence
        return [(0.0, len(levels) * frame)] if loud > -60 else []
    threshold = max(floor + 0.3 * (loud - floor), loud - 35)
    active = levels > threshold
    segments: list[list[float]] = []
    start = None
    for i, on in enumerate(active):
        if on and start is None:
            start = i
        elif not on and start is not None:
            segments.append([start * frame, i * frame])
            start = None
    if start is not None:
        segments.append([start * frame, len(active) * frame])
    merged: list[list[float]] = []
    for seg in segments:
        if merged and seg[0] - merged[-1][1] < MIN_PAUSE:
            merged[-1][1] = seg[1]
        else:
            merged.append(seg)
    return [(round(a, 3), round(b, 3)) for a, b in merged if b - a >= MIN_SOUND]


def speech_segments(path: str, cache_folder: Path | None = None) -> list[tuple[float, float]]:
    """The stretches of speech in the recording at `path` (cached by path, size and mtime)."""
    st = os.stat(path)
    key = hashlib.sha256(json.dumps([CACHE_FORMAT, str(path), st.st_size, st.st_mtime_ns]).encode()).hexdigest()[:24]
    entry = cache_folder / f"{key}.json" if cache_folder else None
    if entry is not None and entry.exists():
        try:
            return [tuple(s) for s in json.loads(entry.read_text(encoding="utf-8"))]
        except (OSError, ValueError):
            pass
    segments = detect_segments(_levels(str(path)))
    if entry is not None:
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(entry, json.dumps(segments))
        except OSError:
            pass  # no usable cache folder: measured again next time
    return segments
