"""Motion graphics drawn frame by frame with Pillow and encoded through MoviePy: title cards and charts.

The painters (kbvideo.render.painters) draw each frame from its index; this module turns them into
files of an exact frame count. The frames go to MoviePy's ffmpeg writer directly (what
`VideoClip.write_videofile` does for a silent clip), so that its ffmpeg is reaped here and its CPU
time and peak memory reach the render report (`stats`).

MoviePy 2 traps handled here (see PITFALLS.md): it counts frames as int(duration * fps) in floats
and passes the rate as "%.02f" (29.97 for 30000/1001); it adds `-pix_fmt yuva420p` for libx264.
So the clip lasts N + 0.5 frames, the filter chain re-times frames on the exact rational rate and
converts to BT.709 yuv420p itself, `-frames:v N` caps the count, and the result is probed with PyAV.
"""

from __future__ import annotations

import time
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np

from kbvideo import proc as processes
from kbvideo.errors import KbError, RenderError
from kbvideo.fsutil import atomic_path
from kbvideo.media.ffmpeg_bin import ffmpeg_exe
from kbvideo.render.ffmpeg import STREAM_709, TAG_709, TO_709
from kbvideo.render.painters import make_painter
from kbvideo.timeline.model import Shot
from kbvideo.i18n import _



# ------------------------------------------------------------------------------------ encoding


def encoder_settings(fps: Fraction, frames: int) -> tuple[str, list[str]]:
    """(x264 preset, extra ffmpeg output arguments) for a motion file of `frames` frames.

    The file is an intermediate that the segment encodes again, so it is lossless (x264 `-qp 0`,
    `ultrafast`): no generation loss, and cheaper both ways than the `superfast` CRF 16 it replaced
    (title card, 1080p, 150 frames: 1.3 vs 2.1 CPU-s to write, 0.34 vs 0.68 to decode, about the
    same size; benchmarks/README.md), the same for drafts and finals."""
    fps = Fraction(fps)
    chain = (f"settb={fps.denominator}/{fps.numerator},setpts=N,"
             f"scale={TO_709},format=yuv420p,{TAG_709}")
    params = ["-vf", chain, "-r", f"{fps.numerator}/{fps.denominator}", "-frames:v", str(frames),
              "-qp", "0", "-pix_fmt", "yuv420p", *STREAM_709]
    return "ultrafast", params


def drawn_frames(shot: Shot, width: int, height: int, fps: Fraction) -> int:
    """How many frames of the card or chart `shot` its motion file holds: those that differ. From the
    last on, every frame of the shot is the same, and the segment that reads the file repeats it
    (kbvideo.render.graph.painted_piece): lossless x264 spends about 7 ms on each 1080p frame even
    when it repeats the one before (a 5-s title card that settles after 1 s: 1.3 of 1.8 CPU-s)."""
    return _drawn(make_painter(shot, width, height, Fraction(fps)), int(shot.duration))


def _drawn(painter, frames: int) -> int:
    return max(1, min(frames, painter.hold_from + 1))


def render_motion_shot(shot: Shot, width: int, height: int, fps: Fraction, out_path: Path, *,
                       cancel=None,
                       stats: Callable[[processes.Usage], None] | None = None) -> Path:
    """Write the card or chart `shot` as a silent H.264 yuv420p video of its `drawn_frames` frames (the
    rest of the shot repeats the last one; the segments that read the file do that).

    Drawn with Pillow through a MoviePy VideoClip; written to a temp file beside `out_path` and
    renamed when its frame count, size and pixel format have been checked with PyAV. When the
    `cancel` event is set (the render was stopped), drawing stops at the next frame. `stats(usage)`:
    the encoding ffmpeg's wall time (drawing included: it is fed frame by frame), CPU time and peak memory.
    """
    from moviepy import VideoClip  # imported here: MoviePy is slow to import
    from moviepy.video.io import ffmpeg_writer

    ffmpeg_writer.FFMPEG_BINARY = ffmpeg_exe()  # the same ffmpeg as the rest of kbvideo ($KBVIDEO_FFMPEG)

    if width % 2 or height % 2 or width <= 0 or height <= 0:
        raise KbError(_("frame size {width}x{height} must be positive even numbers (yuv420p)").format(width=width, height=height))
    frames = int(shot.duration)
    if frames <= 0:
        raise KbError(_("a {kind} shot needs at least one frame (got {frames})").format(kind=shot.kind, frames=frames))
    fps = Fraction(fps)
    painter = make_painter(shot, width, height, fps)
    rate = float(fps)
    drawn = _drawn(painter, frames)  # the frames that differ; the segments repeat the last

    def frame_function(t: float) -> np.ndarray:
        if cancel is not None and cancel.is_set():
            raise RenderError(_("drawing the {kind} shot of scene '{scene}': cancelled").format(kind=shot.kind, scene=shot.scene))
        return painter.frame(min(drawn - 1, int(round(t * rate))))

    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    clip = VideoClip(frame_function, duration=(drawn + 0.5) / rate)
    preset, params = encoder_settings(fps, drawn)
    with atomic_path(out_path, suffix=out_path.suffix or ".mp4") as tmp:  # ffmpeg picks the format by the name
        try:
            usage = _write(clip, str(tmp), rate, preset, params)
        except (OSError, IOError) as exc:
            raise RenderError(_("encoding the {kind} shot of scene '{scene}' failed").format(kind=shot.kind, scene=shot.scene),
                              _("see ffmpeg's words above"), stderr=str(exc)) from exc
        finally:
            clip.close()
        _verify(tmp, drawn, width, height, shot)
    if stats is not None and usage is not None:
        stats(usage)
    return out_path


def _write(clip, filename: str, rate: float, preset: str, params: list[str]) -> processes.Usage | None:
    """`clip.write_videofile(filename, fps=rate, codec="libx264", preset=preset, audio=False,
    ffmpeg_params=params, logger=None)`, its writer driven here so its ffmpeg is reaped with its usage."""
    from moviepy.video.io.ffmpeg_writer import FFMPEG_VideoWriter

    started = time.perf_counter()
    with FFMPEG_VideoWriter(filename, clip.size, rate, codec="libx264", preset=preset, ffmpeg_params=params) as writer:
        for frame in clip.iter_frames(fps=rate, dtype="uint8"):
            writer.write_frame(frame)
        writer.proc.stdin.close()  # end of the frames: ffmpeg finishes the file and exits
        usage = processes.wait_usage(writer.proc, started)  # the writer's close() then finds it reaped
        code = writer.proc.returncode
    if code:
        raise OSError(f"ffmpeg exited with code {code} while writing {filename}")
    return usage


def _verify(path: Path, frames: int, width: int, height: int, shot: Shot) -> None:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        count = stream.frames or sum(1 for _ in container.decode(stream))
        got = (count, stream.codec_context.width, stream.codec_context.height, stream.codec_context.pix_fmt)
    if got != (frames, width, height, "yuv420p"):
        raise RenderError(_("the {kind} shot of scene '{scene}' came out as {got} frames {got2}x{got3} {got4}, expected {frames} frames {width}x{height} yuv420p").format(kind=shot.kind, scene=shot.scene, got=got[0], got2=got[1], got3=got[2], got4=got[3], frames=frames, width=width, height=height),
                          _("this is a bug in kbvideo's motion graphics; please report it"))
