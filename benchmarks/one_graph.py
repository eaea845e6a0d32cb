"""The reference job as ONE ffmpeg command: a yardstick for the final, not a renderer.

    python benchmarks/one_graph.py OUT.mp4 [--seconds 180] [--work bench-work/render]

Built from the anchor's plan.py table, with the same pictures and sound a media engineer would
write by hand: every clip trimmed at its in-point and fitted on black, the stills and the title
card decoded once and held, each caption (the anchor's own PNG) over its scene, 0.5-s `xfade`
crossfades chained, the clips' sound faded at the crossfades and mixed with the music at 25 %, all
in one filter graph encoded with exactly the master's argv (x264 and AAC, as `floor_master`). No
process start per segment, no cache, no file joined: what is left of the final's cost over
`floor_master` here is the work of the job itself (decoding 12 clips and 4 big stills, fitting,
blending, overlaying, mixing), done the cheapest way one ffmpeg allows.

It differs from our render in what it leaves out, all to its advantage: no loudness measurement
or limiter (a plain mix), no programme fades, no text fitting or lower thirds. `bench_render.py
--only floor,final,graph` runs it each round beside `floor_master` and the final.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def one_graph_command(plan, ff: str, src: Path, out: Path, video_args: list[str], audio_args: list[str],
                      seconds: float | None = None) -> list[str]:
    """argv of one ffmpeg rendering the whole job (or its first `seconds`) with `video_args` / `audio_args`."""
    W, H, fps = plan.W, plan.H, plan.FPS
    inputs: list[str] = []
    filters: list[str] = []
    count = 0

    def add_input(*args: str) -> int:
        nonlocal count
        inputs.extend(args)
        count += 1
        return count - 1

    fit = (f"scale={W}:{H}:force_original_aspect_ratio=decrease:flags=bicubic,"
           f"pad={W}:{H}:(ow-iw)/2:(oh-ih)/2:black,setsar=1,format=yuv420p")
    scene_out, sounds = [], []
    caps = out.parent / (out.stem + "-png")
    caps.mkdir(parents=True, exist_ok=True)
    for k, (kind, name, inpt, dur, caption) in enumerate(plan.SCENES):
        frames = round(dur * fps)
        v = f"v{k}"
        if kind == "clip":
            i = add_input("-ss", f"{inpt:.6f}", "-t", f"{dur + 0.1:.6f}", "-i", str(src / name))
            filters.append(f"[{i}:v:0]fps={fps},trim=end_frame={frames},setpts=PTS-STARTPTS,{fit}[{v}]")
            start = plan.STARTS[k]
            fade_in = f"afade=t=in:d={plan.XF}," if k > 0 else ""
            filters.append(f"[{i}:a:0]aresample=48000,aformat=channel_layouts=stereo,atrim=end={dur},"
                           f"asetpts=PTS-STARTPTS,{fade_in}afade=t=out:st={dur - plan.XF}:d={plan.XF},"
                           f"adelay={round(start * 1000)}:all=1[a{k}]")
            sounds.append(f"[a{k}]")
        else:  # a still or the title card: decoded once, held for the scene
            path = plan.render_title(str(caps / "title.png")) if kind == "title" else str(src / name)
            i = add_input("-i", path)
            filters.append(f"[{i}:v:0]{fit},loop=loop={frames - 1}:size=1:start=0,"
                           f"setpts=N/{fps}/TB,fps={fps}[{v}]")
        if caption:
            png, x, y = plan.render_caption(caption, str(caps / f"cap{k:02d}.png"))
            c = add_input("-i", png)
            filters.append(f"[{v}][{c}:v:0]overlay={x}:{y}:eof_action=repeat:format=auto,format=yuv420p[{v}c]")
            v = f"{v}c"
        scene_out.append(v)
    chain = scene_out[0]
    for k in range(1, len(scene_out)):
        filters.append(f"[{chain}][{scene_out[k]}]xfade=transition=fade:duration={plan.XF}:"
                       f"offset={plan.STARTS[k]:.6f}[x{k}]")
        chain = f"x{k}"
    music = add_input("-i", str(src / "music.mp3"))
    filters.append(f"[{music}:a:0]aresample=48000,aformat=channel_layouts=stereo,volume={plan.MUSIC_VOL}[music]")
    total = plan.TOTAL if seconds is None else min(seconds, plan.TOTAL)
    filters.append(f"[music]{''.join(sounds)}amix=inputs={len(sounds) + 1}:normalize=0:duration=longest,"
                   f"atrim=end={total}[aout]")
    frames_out = round(total * fps)
    return [ff, "-hide_banner", "-nostats", "-loglevel", "error", "-y", *inputs,
            "-filter_complex", ";".join(filters), "-map", f"[{chain}]", "-map", "[aout]",
            *video_args, "-frames:v", str(frames_out), *audio_args, "-t", f"{total:.6f}", str(out)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--work", type=Path, default=REPO / "bench-work" / "render")
    parser.add_argument("--anchor", type=Path, default=None)
    args = parser.parse_args()
    import bench_render  # beside this script

    anchor = args.anchor or bench_render.default_anchor()
    plan = bench_render.load_plan(anchor, args.work)
    from kbvideo.media.ffmpeg_bin import ffmpeg_exe
    from kbvideo.render import ffmpeg as render_ffmpeg
    from kbvideo.rules.profile import load_profile

    master = render_ffmpeg.final_encoder(Fraction(plan.FPS), load_profile())
    frames = round((args.seconds or plan.TOTAL) * plan.FPS)
    cmd = one_graph_command(plan, ffmpeg_exe(), args.work / "src", args.out.resolve(), master.video_args(Fraction(plan.FPS), frames),
                            ["-c:a", "aac", "-aac_coder", master.aac_coder, "-b:a", master.audio_bitrate, "-ar", "48000"],
                            args.seconds)
    subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
