"""What the rest of kbvideo may know about a render without loading the engine: the files a render
writes, and the fingerprint of the code that draws them (batch keys and the segment cache use it)."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent


def output_paths(out_path: Path) -> dict[str, Path]:
    """Every file a render writes beside its output (the video last)."""
    stem = out_path.with_suffix("")
    return {"poster": Path(f"{stem}.jpg"), "srt": Path(f"{stem}.srt"), "vtt": Path(f"{stem}.vtt"),
            "report": Path(f"{stem}.render.json"), "video": out_path}


@functools.lru_cache(maxsize=None)
def code_fingerprint() -> str:
    """Changes when any module that shapes pixels changes (the renderer, the text layout, the effects
    registry): cached segments never outlive the code that drew them.

    Read once per process, so that editing the code during a long run cannot mix two fingerprints."""
    digest = hashlib.sha256()
    for path in sorted(path for part in ("render", "layout", "vocab") for path in (PACKAGE / part).glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]
