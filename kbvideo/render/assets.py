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
from kbvideo.render.graph import ClipSource, ProxyOut, read_colors
from kbvideo.render.graphics import render_draft_mark, render_text_overlay
from kbvideo.render.motion import drawn_frames, render_motion_shot
from kbvideo.render.stages import Stages, usage_dict
from kbvideo.render.stills import StillLayers, contain_size, fit_layers, fit_picture
from kbvideo.vocab.effects import MOTION, SHOT_KIND

SEAL_SUFFIX = ".sha256"
PROXY_CRF = 20


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _seal_path(path: Path) -> Path:
    return path.with_name(path.name + SEAL_SUFFIX)


def proxy_size(display: tuple[int, int], width: int, height: int) -> tuple[int, int]:
    """A clip's proxy size for a `width`x`height` draft: the draft's size at the clip's own shape
    (`display`: square pixels, upright), covering the draft's frame, never larger than the clip."""
    dw, dh = display
    scale = min(1.0, max(width / dw, height / dh))
    return max(2, round(dw * scale / 2) * 2), max(2, round(dh * scale / 2) * 2)


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

    def _proxy_base(self, path: str) -> Path:
        """The cache name every proxy of `path` starts with (the clip, its identity, the frame size, the code);
        a proxy of seconds a..b of it is `<base>-<a>-<b>.mp4`, each time written as numerator_denominator."""
        t = self.timeline
        key = hashlib.sha256(json.dumps([path, self.facts[path].identity, t.width, t.height, self.fingerprint]).encode())
        return self._cache_file("proxies", key.hexdigest()[:24], "")

    def _proxy_covering(self, base: Path, span: tuple[Fraction, Fraction]) -> Path | None:
        """The shortest intact cached proxy of the clip named `base` that holds the seconds `span`."""
        found = []
        for candidate in base.parent.glob(f"{base.name}-*-*.mp4"):
            try:
                a, b = (Fraction(int(n), int(d)) for n, d in (x.split("_") for x in candidate.stem[len(base.name) + 1:].split("-")))
            except (ValueError, ZeroDivisionError):  # not a name this code writes
                continue
            if a <= span[0] and span[1] <= b:
                found.append((b - a, candidate.name, candidate))
        for _length, _name, candidate in sorted(found):
            if self._intact(candidate, _("proxy")):
                return candidate
        return None

    def _proxy_size(self, path: str) -> tuple[int, int]:
        t = self.timeline
        return proxy_size(self.facts[path].display or (t.width, t.height), t.width, t.height)

    def clip_source(self, path: str, span: tuple[Fraction, Fraction]) -> ClipSource:
        """What a piece reading seconds `span` of the clip at `path` decodes. A final: the original. A draft:
        a cached proxy that holds the stretch (BT.709, the draft's size, short GOP, the original's
        timestamps); when there is none, the original, with a proxy of exactly that stretch made on the way
        by the segment's own ffmpeg (ProxyOut): the first draft reads each clip once, and only what it uses."""
        facts = self.facts[path]
        original = ClipSource(path, facts.display, facts.hdr, sar=facts.sar is not None, assume=facts.assume_colors)
        if not self.use_proxies:
            return original
        base = self._proxy_base(path)
        found = self._proxy_covering(base, span)
        if found is not None:
            self.stages.add("proxies", 0.0, count=0, cached=1)
            return ClipSource(str(found), self._proxy_size(path), False, absolute_times=True)
        a, b = span
        final = base.with_name(f"{base.name}-{a.numerator}_{a.denominator}-{b.numerator}_{b.denominator}.mp4")
        tmp = self.temp / f"proxy-{final.stem}-{secrets.token_hex(3)}.mp4"
        pw, ph = self._proxy_size(path)
        # BT.709, limited range, tagged: the draft's filters then never convert its frames. Bilinear: the
        # draft's own scaling is fast_bilinear; bicubic cost 1.5 ms a 1080p frame more (2 Dec 2026)
        conform = (read_colors(facts.assume_colors, facts.hdr)
                   + f"scale={pw}:{ph}:flags=bilinear:{ffmpeg.TO_709},setsar=1,format=yuv420p,{ffmpeg.TAG_709}")
        # the piece seeks to `a` (ffmpeg then counts from there): the proxy's frames put back at their times
        shift = ["-output_ts_offset", ffmpeg.seconds(a)] if a > 0 else []
        output = ("-fps_mode", "passthrough", "-an", "-c:v", "libx264", "-preset", "ultrafast", "-crf", str(PROXY_CRF),
                  "-g", "10", "-bf", "0", *ffmpeg.STREAM_709, *shift, "-f", "mp4", str(tmp))
        made = ProxyOut(conform, (pw, ph), output, tmp, final, path, span)
        return dataclasses.replace(original, proxy_out=made)

    def store_proxies(self, graph_proxies, segment_name: str) -> None:
        """Keep the proxies a segment made on the way (after its ffmpeg succeeded)."""
        for made in graph_proxies:
            self._store(made.tmp, made.final)
            self.stages.add("proxies", 0.0, item={"source": made.source, "segment": segment_name,
                                                  "stretch": [round(float(x), 4) for x in made.stretch]})

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

    def settled_from(self, shot) -> int | None:
        """The frame of `shot` from which all its frames are the same picture, or None: a card or chart from
        its last drawn frame, a photo that does not move from its first (kbvideo.render.segments: held
        stretches are encoded once a GOP)."""
        kind = SHOT_KIND[shot.kind]
        if kind.painted:
            return self._drawn(shot) - 1
        if kind.source == "image" and not MOTION[shot.motion].moves:
            return 0
        return None

    @staticmethod
    def _painted(shot) -> tuple:
        """What a card or chart's pictures depend on (besides the frame size and rate): its memo key."""
        return shot.kind, shot.title, shot.subtitle, shot.color, shot.chart, shot.duration

    def _drawn(self, shot) -> int:
        """The frames of a card or chart that differ (kbvideo.render.motion.drawn_frames), worked out once."""
        t = self.timeline
        return self._memo(("drawn", *self._painted(shot)),
                          lambda: drawn_frames(dataclasses.replace(shot, start=0), t.width, t.height, t.fps))

    def motion_asset(self, shot) -> tuple[str, Path, int]:
        """("video", the cached motion file, the frames it holds: the shot's others repeat its last)."""
        t = self.timeline

        def make() -> tuple[str, Path, int]:
            plain = {f.name: getattr(shot, f.name) for f in dataclasses.fields(shot) if f.name not in ("start", "where", "scene")}
            key = hashlib.sha256(json.dumps([plain, t.width, t.height, str(t.fps), self.draft, self.fingerprint],
                                            default=str).encode()).hexdigest()[:24]
            drawn = self._drawn(shot)  # follows from the key
            final = self._cache_file("motion", key, ".mp4")
            if not self._intact(final, _("motion graphic")):
                tmp = self.temp / f"motion-{key}.mp4"
                used, started = [], time.perf_counter()
                made = render_motion_shot(dataclasses.replace(shot, start=0), t.width, t.height, t.fps, tmp,
                                          cancel=self.cancel, stats=used.append)
                wall, usage = time.perf_counter() - started, (used or [None])[0]  # drawing, encoding, checking
                self.stages.add("motion_graphics", wall, usage, frames=shot.duration,
                                item={"scene": shot.scene, "kind": shot.kind, "frames": shot.duration, "drawn": drawn,
                                      **usage_dict(usage, wall)})
                self._store(Path(made), final)
            else:
                self.stages.add("motion_graphics", 0.0, count=0, cached=1)
            return "video", final, drawn

        return self._memo(("motion", *self._painted(shot)), make)

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
