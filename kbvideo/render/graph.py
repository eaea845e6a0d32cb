"""One segment → one ffmpeg argv (inputs + filter_complex), every source conformed to the output.

Conform chain of a clip: decode (ffmpeg autorotates by the display matrix) → the colours an untagged
file does not state, assumed (`setparams`, kbvideo.render.sources.assumed_colors: without it every
frame that meets a tagged picture is converted through RGB as BT.601) → tone-map when HLG/PQ →
`fps` at the output rate (VFR → CFR; the frame shown at time t stays at time t, so sound stays in
sync) → `trim` by frame numbers → fit (contain on a blurred or solid fill, or cover) → yuv420p,
BT.709 (one matrix change for BT.601 footage, none for BT.709), square pixels, timebase 1/fps with pts = frame number. Stills arrive as frame-size RGB PNGs
(see stills.py) and are repeated with `loop` (exact frame counts), Ken Burns through `perspective`
with per-frame subpixel corners (no integer-crop jitter). Texts are PNG inputs laid over with
frame-numbered streams that fade or slide in and out as each item's resolved motion says (vocab.effects.text_motion).
Transitions blend two layers with `xfade` (crossfade, wipes, slides, circle), except fade through
black, which is built symmetric (as many frames down as up, one black frame between). The programme
fades up from black on its first frames and down to black on its last (`programme` fades).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Protocol

from kbvideo.render.ffmpeg import TAG_709, TO_709, seconds
from kbvideo.render.segments import Handoff, Layer, Piece, Segment
from kbvideo.render.sources import assumed_colors
from kbvideo.vocab.effects import MOTION, SHOT_KIND, TRANSITION, text_motion

PREROLL = 2  # frames decoded before a clip's in point, so seeking never lands past it
KEN_BURNS_ZOOM = Fraction(112, 100)
TONEMAP = ("zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,"
           "zscale=t=bt709:m=bt709:r=tv,format=yuv420p")


def read_colors(assume: str, hdr: bool) -> str:
    """Filters, each followed by a comma, that give a decoded clip the colours the render reads it with:
    `assume` (kbvideo.render.sources.assumed_colors: an untagged clip's matrix and range) and, for HDR,
    the tone map to BT.709. Empty for a tagged SDR clip. The render, its proxies and the review's
    pictures all read clips through it."""
    return (f"setparams={assume}," if assume else "") + (TONEMAP + "," if hdr else "")


def read_video_colors(video) -> str:
    """`read_colors` for a probed video stream (kbvideo.media.probe): what the review reads clips with."""
    return read_colors(assumed_colors(video), video.hdr)


@dataclass(frozen=True, slots=True)
class ClipSource:
    path: str
    display: tuple[int, int] | None  # upright size as shown (pixel aspect applied), None when unknown
    hdr: bool = False
    # A proxy keeps the original's timestamps (its video may start after 0, where the original's
    # audio started): seek by absolute timestamp, not from the proxy's own first frame.
    absolute_times: bool = False
    sar: bool = False  # pixels are not square: scale to square before fitting
    assume: str = ""  # setparams options for colours the file does not tag (kbvideo.render.sources.assumed_colors)
    # a draft reading the original because no proxy holds this stretch yet: make one on the way
    proxy_out: "ProxyOut | None" = None


@dataclass(frozen=True, slots=True)
class ProxyOut:
    """A draft proxy of exactly what a piece reads of its original, written as a second output of the
    segment's ffmpeg: the original's frames are brought to the proxy's size and colours once (`conform`),
    then split between the proxy's encoder and the draft's own filters, which read them as they would
    read the proxy. Later drafts whose reads the proxy holds read the proxy instead."""

    conform: str  # filters: the original's decoded frames → the proxy's (size, BT.709, tagged)
    size: tuple[int, int]
    output: tuple[str, ...]  # the proxy's output options and file
    tmp: Path  # where this segment's ffmpeg writes it
    final: Path  # where the cache keeps it
    source: str
    stretch: tuple[Fraction, Fraction]  # seconds of the original it holds, from the file's start


class Overlay(Protocol):
    path: Path
    x: int
    y: int


@dataclass(slots=True)
class Assets:
    """How the graph gets its inputs; the engine prepares (and caches) them on demand."""

    # (source path, the stretch a piece reads in seconds from the file's start) → what to decode: the
    # original, a proxy holding the stretch, or (drafts) the original with a proxy made on the way
    clip: Callable[[str, tuple[Fraction, Fraction]], ClipSource]
    still: Callable[[object], Path]  # still Shot → fitted RGB PNG
    motion: Callable[[object], tuple[str, Path]]  # card/chart Shot → ("video"|"still", path)
    text: Callable[[object], Overlay]  # TextItem → RGBA PNG + position
    draft_mark: Overlay | None = None


class SegmentGraph:
    def __init__(self, width: int, height: int, fps: Fraction, *, draft: bool = False,
                 programme: tuple[int, int, int] = (0, 0, 0)):
        self.width, self.height, self.fps = width, height, fps
        self.total, self.fade_in, self.fade_out = programme  # timeline frames; fades up/down (frames)
        self.flags = "fast_bilinear" if draft else "bicubic"
        self.inputs: list[str] = []
        self.filters: list[str] = []
        self.proxies: list[ProxyOut] = []  # proxies this segment makes as extra outputs
        self.outputs_extra: list[list[str]] = []  # their output arguments, after the segment's own output
        self.give: dict[int, tuple[Handoff, Path]] = {}
        self.take: dict[int, Path] = {}
        self.count = 0
        self.labels = 0

    # -- small helpers
    def input(self, *args: str) -> int:
        self.inputs += list(args)
        self.count += 1
        return self.count - 1

    def label(self, prefix: str = "v") -> str:
        self.labels += 1
        return f"{prefix}{self.labels}"

    @property
    def tb(self) -> str:
        return f"{self.fps.denominator}/{self.fps.numerator}"

    @property
    def restamp(self) -> str:
        """Time base 1/fps with pts = frame number."""
        return f"settb={self.tb},setpts=N"

    def _restamp(self) -> str:
        return self.restamp

    def add(self, chain: str) -> None:
        self.filters.append(chain)

    def seconds(self, frames: int) -> str:
        """`frames` at the output rate, as a time for ffmpeg."""
        return seconds(Fraction(frames) / self.fps)

    # -- fitting
    def _aspect_crop(self) -> str:
        """Crop to the frame's aspect ratio in the source's own pixels, before any scaling: the "cover"
        picture and the blurred fill never grow past the frame, whatever the source's shape."""
        W, H = self.width, self.height
        return f"crop=w='min(iw,ih*{W}/{H})':h='min(ih,iw*{H}/{W})'"

    def fit(self, src: str, display: tuple[int, int] | None, fit: str, fill: str) -> str:
        """Filters fitting [src] into the frame; returns the label of the result."""
        W, H, flags = self.width, self.height, self.flags
        out = self.label("fit")
        if display and display[0] * H == display[1] * W:
            scale = "" if display == (W, H) else f"scale={W}:{H}:flags={flags},"
            self.filters.append(f"[{src}]{scale}setsar=1[{out}]")
        elif fit == "cover":
            self.filters.append(f"[{src}]{self._aspect_crop()},scale={W}:{H}:flags={flags},setsar=1[{out}]")
        elif fill.startswith("#"):
            self.filters.append(f"[{src}]scale={W}:{H}:force_original_aspect_ratio=decrease:force_divisible_by=2:"
                                f"flags={flags},pad={W}:{H}:(ow-iw)/2:(oh-ih)/2:color=0x{fill[1:]},setsar=1[{out}]")
        else:
            bw, bh = max(2, W // 8 // 2 * 2), max(2, H // 8 // 2 * 2)
            a, b, bg, fg = self.label("a"), self.label("b"), self.label("bg"), self.label("fg")
            self.filters.append(f"[{src}]split=2[{a}][{b}]")
            self.filters.append(f"[{a}]{self._aspect_crop()},scale={bw}:{bh}:flags=fast_bilinear,"
                                f"gblur=sigma={max(1, min(bw, bh) // 10)},"
                                f"scale={W}:{H}:flags=bilinear,setsar=1[{bg}]")
            self.filters.append(f"[{b}]scale={W}:{H}:force_original_aspect_ratio=decrease:force_divisible_by=2:"
                                f"flags={flags},setsar=1[{fg}]")
            self.filters.append(f"[{bg}][{fg}]overlay=(W-w)/2:(H-h)/2[{out}]")
        return out

    # -- pieces
    def read_span(self, first: int, count: int) -> tuple[Fraction, Fraction]:
        """The seconds of a source (from the file's start) that `video_piece` reads for `count` frames from
        output-rate frame `first`: its preroll before, one frame and its preroll after."""
        pre = max(0, first - PREROLL)
        return Fraction(pre) / self.fps, Fraction(first + count + PREROLL + 1) / self.fps

    def clip_piece(self, clip: Callable[[str, tuple[Fraction, Fraction]], ClipSource], path: str, first: int,
                   count: int, fit: str, fill: str) -> str:
        """`count` frames of the video at `path` from frame `first`, read from what `clip` says for the stretch."""
        return self.video_piece(clip(path, self.read_span(first, count)), first, count, fit, fill)

    def video_piece(self, source: ClipSource, first: int, count: int, fit: str, fill: str) -> str:
        """`count` frames of a video from output-rate frame `first` of the conformed source."""
        pre = max(0, first - PREROLL)
        skip = first - pre
        args = []
        if source.absolute_times:
            args += ["-seek_timestamp", "1", "-ss", seconds(Fraction(pre) / self.fps)]
        elif pre:  # ffmpeg counts -ss from the file's start (its earliest stream), as players show it
            args += ["-ss", seconds(Fraction(pre) / self.fps)]
        args += ["-t", seconds(Fraction(skip + count + PREROLL + 1) / self.fps), "-i", source.path]
        idx = self.input(*args)
        chain = f"[{idx}:v:0]"
        if source.proxy_out is not None:  # the proxy made on the way; the draft reads the same frames
            made, px, rest = source.proxy_out, self.label("px"), self.label("m")
            self.filters.append(f"{chain}{made.conform},split=2[{px}][{rest}]")
            self.proxies.append(made)
            self.outputs_extra.append(["-map", f"[{px}]", *made.output])
            chain, source = f"[{rest}]", ClipSource(source.path, made.size)
        chain += read_colors(source.assume, source.hdr)
        raw = self.label("raw")
        if source.sar:  # non-square pixels (PAL DV 16:15, HDV 4:3 …): made square before fitting
            chain += f"scale=w='trunc(iw*sar/2+0.5)*2':h=ih:flags={self.flags},setsar=1,"
        chain += (f"fps={self.fps}:start_time=0,trim=start_frame={skip}:end_frame={skip + count},"
                  f"setpts=PTS-STARTPTS[{raw}]")
        self.filters.append(chain)
        fitted = self.fit(raw, source.display, fit, fill)
        out = self.label("p")
        # to BT.709 limited range: nothing to do (and no cost) for HD footage, one matrix change for BT.601 footage
        self.filters.append(f"[{fitted}]scale={TO_709}:flags={self.flags},format=yuv420p,{self._restamp()}[{out}]")
        return out

    def still_piece(self, png, offset: int, count: int, duration: int, motion: str) -> str:
        """A still for `count` frames; `png` is a frame-size PNG, or a StillLayers (fill + picture at
        x, y) whose Ken Burns moves the picture inside its own box, never the fill."""
        moving = MOTION[motion].moves
        if hasattr(png, "picture"):
            fill = self.still_piece(png.fill, offset, count, duration, "none")
            idx = self.input("-i", str(png.picture))
            pic, out = self.label("kb"), self.label("p")
            chain = f"[{idx}:v:0]loop=loop={count - 1}:size=1:start=0,{self._restamp()},"
            if moving:
                chain += self.ken_burns(motion, offset, duration, *self._png_size(png.picture)) + ","
            chain += f"scale={TO_709}:flags={self.flags},format=yuv420p,setsar=1[{pic}]"
            self.filters.append(chain)
            self.filters.append(f"[{fill}][{pic}]overlay=x={png.x}:y={png.y}:format=yuv420,setsar=1[{out}]")
            return out
        idx = self.input("-i", str(png))
        out = self.label("p")
        chain = f"[{idx}:v:0]loop=loop={count - 1}:size=1:start=0,{self._restamp()},"
        if moving:
            chain += self.ken_burns(motion, offset, duration) + ","
        chain += f"scale={TO_709}:flags={self.flags},format=yuv420p,setsar=1[{out}]"
        self.filters.append(chain)
        return out

    @staticmethod
    def _png_size(path) -> tuple[int, int]:
        with open(path, "rb") as handle:
            head = handle.read(24)
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")

    def ken_burns(self, motion: str, offset: int, duration: int, width: int | None = None,
                  height: int | None = None) -> str:
        """`perspective` corners for the shot's window at output frame `on` (subpixel, eased), over a
        picture `width` x `height` (default: the frame)."""
        W, H, z = width or self.width, height or self.height, float(KEN_BURNS_ZOOM)
        span = max(1, duration - 1)
        p = f"(({offset}+on)/{span})"
        ease = f"({p}*{p}*(3-2*{p}))"
        zoom, cx, cy = MOTION[motion].view(W, H, z, ease)
        hw, hh = f"({W / 2}/{zoom})", f"({H / 2}/{zoom})"
        corners = {"x0": f"{cx}-{hw}", "y0": f"{cy}-{hh}", "x1": f"{cx}+{hw}", "y1": f"{cy}-{hh}",
                   "x2": f"{cx}-{hw}", "y2": f"{cy}+{hh}", "x3": f"{cx}+{hw}", "y3": f"{cy}+{hh}"}
        args = ":".join(f"{k}='{v}'" for k, v in corners.items())
        return f"perspective={args}:interpolation=linear:eval=frame"

    def gap_piece(self, count: int) -> str:
        out = self.label("p")
        self.filters.append(f"color=c=black:s={self.width}x{self.height}:r={self.fps},trim=end_frame={count},"
                            f"format=yuv420p,setparams=colorspace=bt709:range=tv,setsar=1,{self._restamp()}[{out}]")
        return out

    def piece(self, piece: Piece, assets: Assets) -> str:
        shot = piece.shot
        if shot is None:
            return self.gap_piece(piece.count)
        return SHOT_KIND[shot.kind].draw(self, shot, piece.offset, piece.count, assets)

    def painted_piece(self, asset: tuple[str, Path, int], offset: int, count: int, duration: int) -> str:
        """A card or chart drawn by its painter: an encoded video of its first `drawn` frames, whose last
        frame holds for the rest of the shot (kbvideo.render.motion.drawn_frames), or one still frame."""
        kind, path, drawn = asset
        if kind != "video":
            return self.still_piece(path, offset, count, duration, "none")
        source = ClipSource(str(path), (self.width, self.height))
        if offset + count <= drawn:
            return self.video_piece(source, offset, count, "contain", "#000000")
        first = min(offset, drawn - 1)  # read from the file up to its last frame, then repeat that one
        read = self.video_piece(source, first, drawn - first, "contain", "#000000")
        out = self.label("held")
        self.filters.append(f"[{read}]tpad=stop_mode=clone:stop={offset + count - drawn},"
                            f"trim=start_frame={offset - first}:end_frame={offset - first + count},"
                            f"{self._restamp()}[{out}]")
        return out

    def layer(self, layer: Layer, assets: Assets, index: int = 0) -> str:
        if index in self.take:  # a transition's layer whose frames a neighbouring body drew (Handoff)
            parts = [self.handed_piece(self.take[index], layer.pieces[0].count)]
        else:
            edges = self.giving_edges(layer, assets) if self.give and index == 0 else {}
            parts = [edges[k] if k in edges else self.piece(p, assets) for k, p in enumerate(layer.pieces)]
        if len(parts) == 1:
            current = parts[0]
        else:
            current = self.label("cat")
            self.filters.append("".join(f"[{p}]" for p in parts) +
                                f"concat=n={len(parts)}:v=1:a=0,{self._restamp()}[{current}]")
        for text in layer.texts:
            current = self.text_overlay(current, assets.text(text), text, layer)
        return current

    def giving_edges(self, layer: Layer, assets: Assets) -> dict[int, str]:
        """Draw the layer's edge piece(s) longer by the frames the neighbouring transitions need, and hand
        those over (raw frames, an extra output) while keeping this segment's own: piece index → label."""
        parts: dict[int, str] = {}
        last = len(layer.pieces) - 1
        for k in sorted({0 if side == 1 else last for side in self.give}):
            piece = layer.pieces[k]
            head = self.give.get(1) if k == 0 else None
            tail = self.give.get(0) if k == last else None
            nh = head[0].piece.count if head else 0
            nt = tail[0].piece.count if tail else 0
            drawn = self.piece(Piece(piece.shot, piece.offset - nh, piece.count + nh + nt), assets)
            keep = self.label("keep")
            outs = [(keep, nh, nh + piece.count, None)]
            for given, a, b in ((head, 0, nh), (tail, nh + piece.count, nh + piece.count + nt)):
                if given:
                    outs.append((self.label("give"), a, b, given[1]))
            self.filters.append(f"[{drawn}]split={len(outs)}" + "".join(f"[{o[0]}]" for o in outs))
            for label, a, b, path in outs:
                cut = self.label("cut") if path is None else self.label("hand")
                self.filters.append(f"[{label}]trim=start_frame={a}:end_frame={b},{self._restamp()}[{cut}]")
                if path is None:
                    parts[k] = cut
                else:
                    self.outputs_extra.append(["-map", f"[{cut}]", "-an", "-c:v", "rawvideo", "-f", "nut", str(path)])
        return parts

    def handed_piece(self, path: Path, count: int) -> str:
        """`count` frames a neighbouring body drew and handed over (raw): as the piece would have drawn them."""
        idx = self.input("-f", "nut", "-i", str(path))
        out = self.label("p")
        self.filters.append(f"[{idx}:v:0]trim=end_frame={count},setparams=colorspace=bt709:range=tv,"
                            f"format=yuv420p,{self._restamp()}[{out}]")
        return out

    def text_overlay(self, base: str, image: Overlay, item, layer: Layer) -> str:
        """Lay a text PNG over [base] for the item's frames inside this layer, faded (and slid) in and out."""
        first = max(0, item.start - layer.start)  # layer-local frame of its first frame here
        count = min(item.end, layer.end) - layer.start - first
        if count <= 0:
            return base
        skip = layer.start + first - item.start  # frames of the item shown before this layer
        kind, fade = text_motion(item, self.fps)
        slide = kind == "slide"
        idx = self.input("-i", str(image.path))
        pic, out = self.label("t"), self.label("o")
        chain = (f"[{idx}:v:0]scale={TO_709},format=yuva420p,loop=loop={item.duration - 1}:size=1:start=0,"
                 f"{self._restamp()}")
        if fade:
            chain += (f",fade=t=in:start_frame=0:nb_frames={fade}:alpha=1,"
                      f"fade=t=out:start_frame={item.duration - fade}:nb_frames={fade}:alpha=1")
        chain += f",trim=start_frame={skip}:end_frame={skip + count},setpts=N+{first}[{pic}]"
        self.filters.append(chain)
        x = str(image.x)
        if slide and fade:
            # item frame k = t*fps - first + skip; p goes 0→1 over the fade in and 1→0 over the fade out
            k = f"(t*{float(self.fps):.6f}-{first - skip})"
            p = f"min(min(max(({k}+1)/{fade},0),1),min(max(({item.duration}-{k})/{fade},0),1))"
            distance = max(2, round(self.height * 0.04))
            x = f"'{image.x}-{distance}*(1-{p})*(1-{p})'"
        self.filters.append(f"[{base}][{pic}]overlay=x={x}:y={image.y}:eof_action=pass:format=yuv420"
                            f"{':eval=frame' if slide and fade else ''}[{out}]")
        return out

    def overlay(self, base: str, image: Overlay, first: int, last: int | None) -> str:
        idx = self.input("-i", str(image.path))
        pic, out = self.label("t"), self.label("o")
        self.filters.append(f"[{idx}:v:0]scale={TO_709},format=yuva420p[{pic}]")
        enable = "" if last is None else f":enable='between(n,{first},{last})'"
        self.filters.append(f"[{base}][{pic}]overlay=x={image.x}:y={image.y}:eof_action=repeat:format=yuv420{enable}[{out}]")
        return out

    def build(self, segment: Segment, assets: Assets, *, give: dict[int, tuple[Handoff, Path]] | None = None,
              take: dict[int, Path] | None = None) -> list[str]:
        """The segment's inputs and filters. `give`: side → (Handoff, file) this body also writes for a
        neighbouring transition (0: frames after its last, 1: before its first); `take`: layer → the file
        a transition reads that layer's frames from instead of its clip."""
        self.give, self.take = give or {}, take or {}
        layers = [self.layer(layer, assets, i) for i, layer in enumerate(segment.layers)]
        if segment.transition is not None and len(layers) == 2:
            current = self.transition(segment, layers[0], layers[1])
        else:
            current = layers[0]
        current = self.programme_fades(segment, current)
        if assets.draft_mark is not None:
            current = self.overlay(current, assets.draft_mark, 0, None)
        final = self.label("out")
        self.filters.append(f"[{current}]fps={self.fps},format=yuv420p,{TAG_709}[{final}]")
        return [*self.inputs, "-filter_complex", ";".join(self.filters), "-map", f"[{final}]", "-r", str(self.fps)]

    def transition(self, segment: Segment, first: str, second: str) -> str:
        """The two layers of a transition segment blended (kbvideo.vocab.effects); exactly `segment.frames` frames."""
        return TRANSITION[segment.transition.kind].blend(self, first, second, segment.frames)

    def programme_fades(self, segment: Segment, current: str) -> str:
        """Up from black over the programme's first frames, down to black over its last."""
        fades = []
        if self.fade_in and segment.start < self.fade_in:
            # frame k of the programme at level k / fade_in (frame 0 black)
            fades.append(f"fade=t=in:start_frame={-segment.start}:nb_frames={self.fade_in}"
                         if segment.start == 0 else f"fade=t=in:start_frame=0:nb_frames={self.fade_in - segment.start}")
        if self.fade_out and segment.end > self.total - self.fade_out:
            start = self.total - self.fade_out - segment.start  # local frame where the fade out begins
            # the fade reaches black on the programme's last frame
            fades.append(f"fade=t=out:start_frame={max(0, start)}:nb_frames={self.fade_out - 1 if start >= 0 else self.total - segment.start - 1}")
        if not fades:
            return current
        out = self.label("pf")
        self.filters.append(f"[{current}]{','.join(fades)}[{out}]")
        return out
