"""The render's inputs, made once and cached: proxies of the clips (drafts), fitted stills, motion
graphics (cards and charts), text overlays and the DRAFT mark.

Part of the render job (kbvideo.render.engine._Render mixes it in): `self` holds the timeline, the
source facts, the cache folder, the temp folder and the input guard. Persistent entries (proxies,
fitted stills, motion graphics, segments, the sound mix) are sealed with their size and sha256 when stored and
checked before use; a damaged or unsealed entry is rebuilt, with a notice.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
import threading
import time
from fractions import Fraction
from pathlib import Path

from kbvideo.fsutil import replace_into
from kbvideo.i18n import _
from kbvideo.render import ffmpeg
from kbvideo.render.graph import PREROLL, TONEMAP, ClipSource
from kbvideo.render.graphics import render_draft_mark, render_text_overlay
from kbvideo.render.motion import render_motion_shot
from kbvideo.render.stages import Stages, usage_dict
from kbvideo.render.stills import StillLayers, contain_size, fit_layers, fit_picture
from kbvideo.vocab.effects import MOTION, SHOT_KIND

SEAL_SUFFIX = ".sha256"
PROXY_CRF = 20
# Proxies of a stretch: seconds kept on each side of what the shots read, and the share of the clip
# past which the whole clip is proxied instead (one file serves every later edit).
PROXY_MARGIN = Fraction(2)
PROXY_WHOLE_SHARE = Fraction(3, 4)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _seal_path(path: Path) -> Path:
    return path.with_name(path.name + SEAL_SUFFIX)


class AssetCache:
    """Cached inputs of the segments, each made once per render (`_memo`) and, where it is worth
    it, kept between renders in the cache folder (`_store`, `_intact`)."""

    lock: threading.Lock
    stages: Stages

    def _memo(self, key, make):
        with self.lock:
            if key in self.memo:
                return self.memo[key]
            lock = self.memo_locks.setdefault(key, threading.Lock())
        with lock:
            with self.lock:
                if key in self.memo:
                    return self.memo[key]
            value = make()
            with self.lock:
                self.memo[key] = value
            return value

    def _cache_file(self, folder: str, key: str, suffix: str) -> Path:
        path = self.cache_dir / folder / f"{key}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def notice(self, message: str) -> None:
        with self.lock:
            self.notices.append(message)
        if self.notice_hook is not None:
            self.notice_hook(message)

    def _store(self, tmp: Path, final: Path) -> Path:
        """Move a finished cache entry into place, sealed with its size and sha256."""
        size = Path(tmp).stat().st_size
        with self.stages.timed("seal_store", bytes=size):
            seal = f"{size} {_sha256(Path(tmp))}\n"
        replace_into(tmp, final, self.guard)
        seal_tmp = self.temp / f"seal-{secrets.token_hex(4)}"
        seal_tmp.write_text(seal, encoding="ascii")
        replace_into(seal_tmp, _seal_path(final), self.guard)
        with self.lock:
            self.verified[final] = True
        return final

    def _intact(self, path: Path, what: str) -> bool:
        """True when the cache entry exists and matches its seal; a damaged one is reported (it is rebuilt)."""
        with self.lock:
            if path in self.verified:
                return self.verified[path]
        ok, reason = True, ""
        if not path.exists():
            ok = False
        else:
            try:
                size, digest = _seal_path(path).read_text(encoding="ascii").split()
                if int(size) != path.stat().st_size:
                    ok, reason = False, _("it is {actual} bytes, {sealed} were stored").format(
                        actual=path.stat().st_size, sealed=size)
                else:
                    with self.stages.timed("seal_check", bytes=int(size)):
                        changed = _sha256(path) != digest
                    if changed:
                        ok, reason = False, _("its contents changed since it was stored")
            except (OSError, ValueError, UnicodeDecodeError):
                ok, reason = False, _("it has no valid seal")
            if not ok:
                self.notice(_("the cached {what} {name} is damaged ({reason}): rebuilding it").format(
                    what=what, name=path.name, reason=reason))
        with self.lock:
            self.verified[path] = ok
        return ok

    def proxy_span(self, path: str) -> tuple[tuple[Fraction, Fraction], tuple[Fraction, Fraction]] | None:
        """(what the timeline's shots read of `path`, the stretch to proxy: that with PROXY_MARGIN on each
        side, so small in-point edits still fall inside it), in seconds from the file's start; None: proxy
        the whole clip (the stretch is most of it, or the clip's length is unknown)."""
        t = self.timeline
        shots = [s for s in t.shots if s.source == path and SHOT_KIND[s.kind].source == "video"]
        duration = self.facts[path].duration
        if not shots or not duration:
            return None
        first = max(0, min(s.source_in for s in shots) - PREROLL)
        last = max(s.source_in + s.duration for s in shots) + PREROLL + 1
        need = (Fraction(first) / t.fps, Fraction(last) / t.fps)
        a, b = max(Fraction(0), need[0] - PROXY_MARGIN), need[1] + PROXY_MARGIN
        if (b - a) >= PROXY_WHOLE_SHARE * Fraction(duration).limit_denominator(1000):
            return None
        # whole tenths of a second, so the file name (and a later render's lookup) is exact
        return need, (Fraction(int(a * 10), 10), Fraction(-int(-b * 10), 10))

    def _proxy_covering(self, whole: Path, span: tuple[Fraction, Fraction]) -> Path | None:
        """An intact cached proxy of the clip whose whole-clip proxy is `whole` that holds `span`: that
        whole-clip one when there is one, else the shortest stretch (named `<whole>-<from>-<to>.mp4`)."""
        if self._intact(whole, _("proxy")):
            return whole
        base = whole.stem
        found = []
        for candidate in whole.parent.glob(f"{base}-*-*.mp4"):
            try:
                a, b = (Fraction(int(x), 10) for x in candidate.stem[len(base) + 1:].split("-"))
            except ValueError:
                continue
            if a <= span[0] and span[1] <= b:
                found.append((b - a, candidate))
        for _length, candidate in sorted(found):
            if self._intact(candidate, _("proxy")):
                return candidate
        return None

    def proxy(self, path: str) -> ClipSource:
        """A small copy of the clip for drafts (BT.709, the draft's size, short GOP), with the original's
        timestamps. Only the stretch the storyboard uses (plus a margin) when that is less than most of
        the clip: a phone clip of minutes used for seconds costs seconds to proxy."""
        facts = self.facts[path]
        t = self.timeline
        base = hashlib.sha256(json.dumps([path, facts.identity, t.width, t.height, self.fingerprint]).encode()).hexdigest()[:24]
        spans = self.proxy_span(path)
        need, span = spans if spans is not None else (None, None)
        dw, dh = facts.display or (t.width, t.height)
        scale = min(1.0, max(t.width / dw, t.height / dh))
        pw, ph = max(2, round(dw * scale / 2) * 2), max(2, round(dh * scale / 2) * 2)
        whole = self._cache_file("proxies", base, ".mp4")
        if span is None:
            final = whole
            ready = self._intact(final, _("proxy"))
        else:
            found = self._proxy_covering(whole, need)
            ready = found is not None
            final = found or whole.with_name(f"{base}-{int(span[0] * 10)}-{int(span[1] * 10)}.mp4")
        if not ready:
            tmp = self.temp / f"proxy-{final.stem}.mp4"
            # BT.709, limited range, tagged: the draft's filters then never convert its frames
            chain = ((f"setparams={facts.assume_colors}," if facts.assume_colors else "") + (TONEMAP + "," if facts.hdr else "")
                     + f"scale={pw}:{ph}:flags=bicubic:{ffmpeg.TO_709},setsar=1,format=yuv420p,{ffmpeg.TAG_709}")
            # a stretch: seek to its start, and put the frames back at their times in the original
            stretch = ([] if span is None else
                       ["-ss", ffmpeg.seconds(span[0]), "-t", ffmpeg.seconds(span[1] - span[0])])
            shift = [] if span is None or span[0] == 0 else ["-output_ts_offset", ffmpeg.seconds(span[0])]
            used = []
            ffmpeg.run([*stretch, "-i", path, "-map", "0:v:0", "-vf", chain, "-fps_mode", "passthrough", "-an",
                        "-c:v", "libx264", "-preset", "ultrafast", "-crf", str(PROXY_CRF), "-g", "10", "-bf", "0",
                        *ffmpeg.STREAM_709, *shift,
                        "-f", "mp4", str(tmp)], what=_("making a proxy of {path}").format(path=path), cancel=self.cancel, children=self.children,
                       cache_dir=str(self.cache_dir), stats=used.append)
            item = {"source": path, **usage_dict(used[0])}
            if span is not None:
                item["stretch"] = [float(span[0]), float(span[1])]
            self.stages.add("proxies", used[0].wall, used[0], item=item)
            self._store(tmp, final)
        else:
            self.stages.add("proxies", 0.0, count=0, cached=1)
        return ClipSource(str(final), (pw, ph), False, absolute_times=True)

    def clip_source(self, path: str) -> ClipSource:
        facts = self.facts[path]
        if self.use_proxies:
            return self._memo(("proxy", path), lambda: self.proxy(path))
        return ClipSource(path, facts.display, facts.hdr, sar=facts.sar is not None, assume=facts.assume_colors)

    def still_png(self, shot) -> Path:
        """The still fitted to the frame (an RGB PNG, or a StillLayers for a contained Ken Burns), kept in
        the cache folder between renders: decoding and resizing a phone photo costs ~0.5 s a render."""
        t = self.timeline

        moving = shot.motion in MOTION and MOTION[shot.motion].moves and shot.fit != "cover"

        def make():
            facts = self.facts[shot.source]
            display = facts.display
            layered = bool(moving and display and contain_size(*display, t.width, t.height) != (t.width, t.height))
            key = hashlib.sha256(json.dumps([shot.source, facts.identity, shot.fit, shot.fill, t.width, t.height,
                                             layered, self.fingerprint]).encode()).hexdigest()[:24]
            if layered:  # Ken Burns moves the picture inside its box, never the fill around it
                fill, picture = self._cache_file("stills", key, "-fill.png"), self._cache_file("stills", key, "-picture.png")
                where = self._cache_file("stills", key, ".json")
                if all(self._intact(f, _("still")) for f in (fill, picture, where)):
                    x, y = json.loads(where.read_text(encoding="utf-8"))
                    return StillLayers(fill, picture, x, y)
                with self.stages.timed("stills"):
                    made = fit_layers(shot.source, t.width, t.height, shot.fill, self.temp / f"still-{key}-fill.png",
                                      self.temp / f"still-{key}-picture.png")
                pos = self.temp / f"still-{key}.json"
                pos.write_text(json.dumps([made.x, made.y]), encoding="utf-8")
                for tmp, final in ((made.fill, fill), (made.picture, picture), (pos, where)):
                    self._store(tmp, final)  # sealed: timed as seal_store
                return StillLayers(fill, picture, made.x, made.y)
            final = self._cache_file("stills", key, ".png")
            if self._intact(final, _("still")):
                return final
            with self.stages.timed("stills"):
                made = fit_picture(shot.source, t.width, t.height, shot.fit, shot.fill, self.temp / f"still-{key}.png")
            return self._store(made, final)

        return self._memo(("still", shot.source, shot.fit, shot.fill, moving), make)

    def motion_asset(self, shot) -> tuple[str, Path]:
        t = self.timeline

        def make() -> tuple[str, Path]:
            plain = {f.name: getattr(shot, f.name) for f in dataclasses.fields(shot) if f.name not in ("start", "where", "scene")}
            key = hashlib.sha256(json.dumps([plain, t.width, t.height, str(t.fps), self.draft, self.fingerprint],
                                            default=str).encode()).hexdigest()[:24]
            final = self._cache_file("motion", key, ".mp4")
            if not self._intact(final, _("motion graphic")):
                tmp = self.temp / f"motion-{key}.mp4"
                used, started = [], time.perf_counter()
                made = render_motion_shot(dataclasses.replace(shot, start=0), t.width, t.height, t.fps, tmp,
                                          draft=self.draft, cancel=self.cancel, stats=used.append)
                wall, usage = time.perf_counter() - started, (used or [None])[0]  # drawing, encoding, checking
                self.stages.add("motion_graphics", wall, usage, frames=shot.duration,
                                item={"scene": shot.scene, "kind": shot.kind, "frames": shot.duration,
                                      **usage_dict(usage, wall)})
                self._store(Path(made), final)
            else:
                self.stages.add("motion_graphics", 0.0, count=0, cached=1)
            return "video", final

        return self._memo(("motion", shot.kind, shot.title, shot.subtitle, shot.color, shot.chart, shot.duration), make)

    def text_overlay(self, item, folder: Path):
        t = self.timeline

        def make():
            sub = folder / f"text-{len(self.memo)}-{secrets.token_hex(3)}"
            sub.mkdir(parents=True, exist_ok=True)
            with self.stages.timed("text_overlays"):
                return render_text_overlay(item, t.width, t.height, sub, *self.caption_limits)

        return self._memo(("text", item), make)

    def draft_mark(self):
        if not self.draft:
            return None
        t = self.timeline

        def make():
            folder = self.temp / "draft-mark"
            folder.mkdir(exist_ok=True)
            with self.stages.timed("draft_mark"):
                return render_draft_mark(t.width, t.height, folder)

        return self._memo("draft-mark", make)
