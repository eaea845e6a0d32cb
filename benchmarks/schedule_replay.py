"""Replay a render report's schedule: would another order of the scene bodies have finished sooner?

    python benchmarks/schedule_replay.py bench-work/render/out/short-mp.render.json [...]

Takes each encoded segment's measured `wall` and the sound mix's from a `.render.json` and runs them
through the render pool's policy (kbvideo.render.encode.Encoding.encode_all: `jobs` workers, one job
queued ahead, the sound first, bodies in programme order, a transition as soon as the bodies that hand
it frames are done, ahead of the bodies still waiting). Prints the replayed time of the segments stage
(it should match the report's `timings.segments`) and, with at most 8 bodies, the best and the worst
of every order of the bodies, next to the work divided by the workers. A model: it holds each wall
fixed, although walls move with what runs beside them.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
from collections import deque


def replay(rows: list[dict], sound: float, jobs: int = 2, order: list[str] | None = None) -> float:
    """Seconds the pool takes for `rows` (programme order), the bodies taken in `order` (names)."""
    names = [r["name"] for r in rows]
    waits: dict[str, set[str]] = {}
    for i, row in enumerate(rows):
        for side in (row.get("handoff") or {}).get("took", []):
            waits.setdefault(row["name"], set()).add(names[i - 1 if side == 0 else i + 1])
    wall = {r["name"]: r["wall"] for r in rows}
    bodies = deque(n for n in (order or names) if n not in waits)
    ready: deque = deque()
    queued: deque = deque([None]) if sound else deque()  # the executor's own queue; None: the sound mix
    running: list = []  # (end, sequence, name)
    free, now, in_flight, sequence = jobs, 0.0, len(queued), 0
    while True:
        while in_flight < jobs + 1 and (ready or bodies):  # one queued ahead, as encode_all does
            queued.append(ready.popleft() if ready else bodies.popleft())
            in_flight += 1
        while free and queued:
            name = queued.popleft()
            heapq.heappush(running, (now + (sound if name is None else wall[name]), sequence, name))
            sequence, free = sequence + 1, free - 1
        if not running:
            return now
        now, _, name = heapq.heappop(running)
        free, in_flight = free + 1, in_flight - 1
        for consumer, producers in waits.items():
            if name in producers:
                producers.discard(name)
                if not producers:
                    ready.append(consumer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    for path in args.reports:
        report = json.load(open(path, encoding="utf-8"))
        stages = report["stages"]
        sound = sum((stages.get(k) or {}).get("wall") or 0 for k in ("sound_mix", "sound_encode"))
        rows = [r for r in report["segments"] if not r["cached"]]
        line = (f"{path}: measured {report['timings']['segments']:.2f} s, replayed {replay(rows, sound, args.jobs):.2f} s, "
                f"work / {args.jobs} workers {(sum(r['wall'] for r in rows) + sound) / args.jobs:.2f} s")
        bodies = [r["name"] for r in rows if not (r.get("handoff") or {}).get("took")]
        if len(bodies) <= 8:
            times = sorted((replay(rows, sound, args.jobs, list(p)), p) for p in itertools.permutations(bodies))
            line += f"; orders of the {len(bodies)} bodies: best {times[0][0]:.2f} s {list(times[0][1])}, worst {times[-1][0]:.2f} s"
        print(line)


if __name__ == "__main__":
    main()
