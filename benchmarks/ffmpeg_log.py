"""Log every ffmpeg the renderer starts: its argv, wall time and CPU time (a KBVIDEO_FFMPEG wrapper).

    install(folder, log) -> path of the wrapper script; set KBVIDEO_FFMPEG to it (and clear
                            kbvideo.media.ffmpeg_bin.ffmpeg_exe's cache) before rendering
    read(log)            -> one dict per ffmpeg run: argv, wall, user, sys, rc, role, null
    summary(rows)        -> {role: {"count", "wall", "cpu"}}

The wrapper is bash (no extra process start besides itself: EPOCHREALTIME and `times` are builtins),
so it adds a few milliseconds per ffmpeg. With KBV_NULLPASS=1 in the environment, each segment's
argv is also run a second time right after the real one with the encoder replaced by `-f null`
(decoding and filtering only; its extra outputs, draft proxies and handed-over frames, go to `-f null` too): the difference is the cost of x264 + muxing. That doubles the
decode/filter work, so never time a render that runs with it: it is for profiling runs only.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
from pathlib import Path

from kbvideo.media.ffmpeg_bin import ffmpeg_exe

WRAPPER = r"""#!/bin/bash
REAL=%(real)s
LOG=%(log)s
TF="$LOG.$$.t"
TIMEFORMAT='%%3R %%3U %%3S'
t0=$EPOCHREALTIME
{ time "$REAL" "$@" 2>&5 ; } 5>&2 2>"$TF"
rc=$?
read -r wall user sys < "$TF"
printf -v argv '%%q ' "$@"
printf '%%s\t%%s\t%%s\t%%s %%s\tREAL\t%%s\n' "$t0" "$wall" "$rc" "$user" "$sys" "$argv" >> "$LOG"
seg=""; for a in "$@"; do [[ "$a" == */seg-*.mp4 ]] && seg=1; done
if [[ "$KBV_NULLPASS" == 1 && -n "$seg" ]]; then
  args=(); n=""; prev=""; skip=""; extra=(); after=""
  for a in "$@"; do
    [[ "$prev" == "-frames:v" ]] && n="$a"
    # outputs after the segment's own (draft proxies, handed-over frames): kept, written to nothing
    [[ -n "$after" && "$prev" == "-map" ]] && extra+=(-map "$a" -f null -)
    [[ "$a" == */seg-*.mp4 ]] && after=1
    prev="$a"
  done
  for a in "$@"; do
    [[ "$a" == "-an" ]] && break
    [[ "$a" == "-progress" ]] && { skip=1; continue; }
    [[ -n "$skip" ]] && { skip=""; continue; }
    args+=("$a")
  done
  s0=$EPOCHREALTIME
  { time "$REAL" "${args[@]}" -an -frames:v "$n" -f null - "${extra[@]}" >/dev/null 2>&5 ; } 5>/dev/null 2>"$TF"
  rc2=$?
  read -r wall user sys < "$TF"
  printf '%%s\t%%s\t%%s\t%%s %%s\tNULL\t%%s\n' "$s0" "$wall" "$rc2" "$user" "$sys" "$argv" >> "$LOG"
fi
rm -f "$TF"
exit $rc
"""


def install(folder: Path, log: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    real = ffmpeg_exe()
    path = folder / "ffmpeg-logged"
    path.write_text(WRAPPER % {"real": shlex.quote(real), "log": shlex.quote(str(log))})
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def role(argv: list[str]) -> str:
    out = argv[-1] if argv else ""
    name = Path(out).name
    # a draft segment's own output comes first; proxies it makes on the way follow it
    segment = next((Path(a).name for a in argv if re.match(r"seg-.*\.mp4$", Path(a).name)), None)
    if segment is not None:
        return "segment " + segment[4:-4]
    if name.startswith("proxy-"):
        return "proxy"
    if "concat" in argv:
        return "join"
    if name == "poster.jpg":
        return "poster"
    if "ebur128" in " ".join(argv) or name.endswith(".m4a") or name.endswith(".wav") or "aac" in argv and "-vn" in argv:
        return "audio"
    if any(a.startswith("rawvideo") for a in argv) or "-f" in argv and "rawvideo" in argv:
        return "motion"
    return "other " + name


def read(log: Path) -> list[dict]:
    rows = []
    if not log.exists():
        return rows
    for line in log.read_text().splitlines():
        try:
            t0, wall, rc, cpu, kind, argv = line.split("\t", 5)
            user, sys_ = (float(x) for x in cpu.split())
        except ValueError:
            continue
        args = shlex.split(argv)
        rows.append({"start": float(t0), "wall": float(wall), "rc": int(rc), "kind": kind, "user": user,
                     "sys": sys_, "cpu": user + sys_, "argv": args, "role": role(args)})
    return rows


def summary(rows: list[dict]) -> dict:
    out: dict[str, dict] = {}
    for row in rows:
        name = row["role"].split(" ")[0] + (" (null pass)" if row["kind"] == "NULL" else "")
        agg = out.setdefault(name, {"count": 0, "wall": 0.0, "cpu": 0.0})
        agg["count"] += 1
        agg["wall"] += row["wall"]
        agg["cpu"] += row["cpu"]
    return out


def use(wrapper: Path) -> None:
    """Make kbvideo start `wrapper` as its ffmpeg from now on (in this process and its children)."""
    from kbvideo.media import ffmpeg_bin

    os.environ["KBVIDEO_FFMPEG"] = str(wrapper)
    ffmpeg_bin.ffmpeg_exe.cache_clear()


def unuse(previous: str | None) -> None:
    from kbvideo.media import ffmpeg_bin

    if previous is None:
        os.environ.pop("KBVIDEO_FFMPEG", None)
    else:
        os.environ["KBVIDEO_FFMPEG"] = previous
    ffmpeg_bin.ffmpeg_exe.cache_clear()


def main() -> None:
    """python benchmarks/ffmpeg_log.py LOG...: each logged ffmpeg run, then the sums by role."""
    import sys

    for name in sys.argv[1:]:
        rows = read(Path(name))
        if not rows:
            continue
        t0 = min(r["start"] for r in rows)
        span = max(r["start"] + r["wall"] for r in rows) - t0
        print(f"{name}: {len(rows)} ffmpeg runs over {span:.1f} s")
        for r in rows:
            print(f"  {r['role']:<24} {r['kind']:<4} at {r['start'] - t0:7.2f}  wall {r['wall']:7.2f}  cpu {r['cpu']:7.2f}")
        for role_name, agg in summary(rows).items():
            print(f"  = {role_name:<22} x{agg['count']:<3} wall {agg['wall']:7.2f}  cpu {agg['cpu']:7.2f}")


if __name__ == "__main__":
    main()
