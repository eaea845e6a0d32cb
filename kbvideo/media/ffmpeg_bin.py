"""Where ffmpeg comes from: $KBVIDEO_FFMPEG if set, else the binary shipped in the imageio-ffmpeg wheel.

Nothing is downloaded. There is no ffprobe here on purpose: probing goes through PyAV.
"""

from __future__ import annotations

import functools
import os
import shutil

from kbvideo.errors import KbError
from kbvideo.i18n import _


@functools.lru_cache(maxsize=None)
def ffmpeg_exe() -> str:
    configured = os.environ.get("KBVIDEO_FFMPEG")
    if configured:
        found = shutil.which(configured) or (configured if os.path.isfile(configured) else None)
        if not found:
            raise KbError(_("KBVIDEO_FFMPEG={configured} is not an executable").format(configured=configured), _("unset it to use the bundled ffmpeg"))
        return found
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - it is a dependency
        raise KbError(_("imageio-ffmpeg is not installed"), _("pip install imageio-ffmpeg, or set KBVIDEO_FFMPEG")) from exc
    return imageio_ffmpeg.get_ffmpeg_exe()
