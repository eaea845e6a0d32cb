"""(Storyboard, probed media) → Timeline. Pure: no I/O, so it is tested with fake MediaInfo.

Scenes follow each other; a transition into the next scene overlaps the two, so
total = Σ scene lengths − Σ overlaps. A transition that does not fit, an out point past a clip's
end or narration longer than its scene is an error pointing at the storyboard line, never a
silent clamp.
"""

from __future__ import annotations

import math
from fractions import Fraction

from kbvideo.errors import Problem, SpecError
from kbvideo.i18n import _
from kbvideo.media.probe import MediaInfo
from kbvideo.speech.cues import CueLimits, make_cues
from kbvideo.speech.model import Speech
from kbvideo.storyboard.model import Scene, ShotSpec, Storyboard, TimedText
from kbvideo.timecode import format_seconds
from kbvideo.timeline.model import AudioItem, SceneSpan, Shot, TextItem, Timeline, Transition
from kbvideo.vocab.effects import SHOT_KIND, TEXT_MOTION, TRANSITION

CAPTION_GAP_FRAMES = 2


def _secs(frames: int, fps: Fraction) -> str:
    return format_seconds(Fraction(frames) / fps, 2 if (Fraction(frames) / fps * 10).denominator != 1 else 1)


def media_frames(info: MediaInfo, fps: Fraction) -> int:
    """Whole frames at the output rate that a video (or audio) source can give."""
    video = info.main_video
    seconds = None
    if video is not None and video.duration:
        seconds = video.duration
    elif info.audio and info.audio[0].duration:
        seconds = info.audio[0].duration
    if seconds is None:
        seconds = info.duration or 0.0
    return math.floor(Fraction(seconds).limit_denominator(1_000_000) * fps + Fraction(1, 1000))


class _Resolver:
    def __init__(self, board: Storyboard, media: dict[str, MediaInfo], speech: dict[str, Speech] | None = None,
                 cue_limits: CueLimits | None = None, max_caption_seconds: float | None = None):
        self.max_caption_frames = (None if max_caption_seconds is None
                                   else int(Fraction(str(max_caption_seconds)) * board.output.fps))
        self.board = board
        self.media = media
        self.speech = speech or {}
        self.cue_limits = cue_limits or CueLimits()
        self.fps = board.output.fps
        self.problems: list[Problem] = []

    def frames(self, time) -> int:
        return time.to_frames(self.fps)

    def shot_length(self, spec: ShotSpec, scene: Scene) -> tuple[int, int]:
        """(source_in, duration) in frames; records a problem and returns (0, 0) when it cannot."""
        source = SHOT_KIND[spec.kind].source
        if source != "video":  # its length is written: a still, a card, a chart
            if source == "image":
                info = self.media.get(str(spec.source))
                if info is not None and info.kind != "image":
                    self.problems.append((spec.source_loc or spec.loc).problem(
                        _("scene '{id}': {name} is a {kind} file, not a picture").format(id=scene.id, name=spec.source.name, kind=info.kind),
                        _("use 'clip:' for video files")))
            duration = self.frames(spec.duration)
            if duration <= 0:
                self.problems.append(spec.loc.problem(_("scene '{id}': shot is shorter than one frame").format(id=scene.id)))
            return 0, max(duration, 0)
        info = self.media.get(str(spec.source))
        if info is None:
            return 0, 0  # already reported by probing
        where = spec.source_loc or spec.loc
        if info.main_video is None:
            kind = _("a picture") if info.kind == "image" else _("audio only")
            hint = _("use 'still:' for pictures") if info.kind == "image" else _("use it as narration or music")
            self.problems.append(where.problem(_("scene '{id}': {name} is {kind}, not a video clip").format(id=scene.id, name=spec.source.name, kind=kind), hint))
            return 0, 0
        available = media_frames(info, self.fps)
        source_in = self.frames(spec.in_point) if spec.in_point else 0
        if source_in >= available:
            self.problems.append(where.problem(
                _("scene '{id}': in point {at} is at or past the end of {name} ({end})").format(id=scene.id, at=_secs(source_in, self.fps), name=spec.source.name, end=_secs(available, self.fps)), _("choose an earlier in point")))
            return 0, 0
        if spec.out_point is not None:
            out = self.frames(spec.out_point)
            if out > available:
                self.problems.append((spec.out_loc or where).problem(
                    _("scene '{id}': out point {out} is past the end of {name} ({end})").format(id=scene.id, out=_secs(out, self.fps), name=spec.source.name, end=_secs(available, self.fps)),
                    _("the clip ends at {secs}; use an earlier out point").format(secs=_secs(available, self.fps))))
                return 0, 0
            if out <= source_in:
                self.problems.append((spec.out_loc or where).problem(
                    _("scene '{id}': out point {out} is not after the in point {in_point}").format(id=scene.id, out=_secs(out, self.fps), in_point=_secs(source_in, self.fps))))
                return 0, 0
            return source_in, out - source_in
        if spec.duration is not None:
            duration = self.frames(spec.duration)
            if source_in + duration > available:
                self.problems.append(where.problem(
                    _("scene '{id}': {length} from {start} runs past the end of {name} ({end})").format(id=scene.id, length=_secs(duration, self.fps), start=_secs(source_in, self.fps), name=spec.source.name, end=_secs(available, self.fps)),
                    _("at most {secs} is left after the in point").format(secs=_secs(available - source_in, self.fps))))
                return 0, 0
            return source_in, duration
        return source_in, available - source_in

    def resolve(self) -> Timeline:
        board, fps = self.board, self.fps
        lengths: list[list[tuple[ShotSpec, int, int]]] = []
        for scene in board.scenes:
            lengths.append([(spec, *self.shot_length(spec, scene)) for spec in scene.shots])
        scene_len = [sum(d for _, _, d in shots) for shots in lengths]

        overlaps = []
        for index, scene in enumerate(board.scenes[:-1]):
            spec = scene.transition
            takes_time = TRANSITION[spec.kind].overlaps
            d = self.frames(spec.duration) if takes_time else 0
            if takes_time and d <= 0:
                self.problems.append(spec.loc.problem(_("scene '{id}': {kind} is shorter than one frame").format(id=scene.id, kind=spec.kind)))
            overlaps.append(max(d, 0))
        for index, scene in enumerate(board.scenes):
            incoming = overlaps[index - 1] if index > 0 else 0
            outgoing = overlaps[index] if index < len(overlaps) else 0
            if incoming + outgoing > scene_len[index] and scene_len[index] > 0:
                spec = scene.transition if outgoing else board.scenes[index - 1].transition
                self.problems.append((spec.loc or scene.loc).problem(
                    _("scene '{id}' is {length} long; its transitions need {needed}: the transition does not fit").format(id=scene.id, length=_secs(scene_len[index], fps), needed=_secs(incoming + outgoing, fps)),
                    _("shorten the transition or lengthen the scene")))

        spans, shots, texts, audio, transitions = [], [], [], [], []
        start = 0
        for index, scene in enumerate(board.scenes):
            length = scene_len[index]
            span = SceneSpan(scene.id, scene.topic, scene.functions, start, length, scene.loc)
            spans.append(span)
            cursor = start
            for spec, source_in, duration in lengths[index]:
                shots.append(self.make_shot(spec, scene, cursor, duration, source_in))
                info = self.media.get(str(spec.source)) if spec.source else None
                if SHOT_KIND[spec.kind].source == "video" and info is not None and info.has_audio and spec.volume > 0 and duration > 0:
                    audio.append(AudioItem("clip", str(spec.source), cursor, duration, source_in, spec.volume,
                                           scene=scene.id, where=spec.loc))
                cursor += duration
            incoming = overlaps[index - 1] if index > 0 else 0
            outgoing = overlaps[index] if index < len(overlaps) else 0
            scene_texts = self.scene_texts(scene, span, incoming, outgoing)
            if scene.narration:
                spoken = self.narration(scene, span)
                audio += spoken
                if scene.captions_from_narration and spoken:
                    scene_texts = sorted(scene_texts + self.narration_captions(scene, span), key=lambda t: (t.start, t.kind))
            texts += scene_texts
            if index < len(overlaps):
                nxt = board.scenes[index + 1]
                transitions.append(Transition(scene.transition.kind, scene.id, nxt.id, start + length - outgoing, outgoing))
            start += length - outgoing
        total = spans[-1].end if spans else 0
        if board.music:
            audio += self.music(total)
        if self.problems:
            raise SpecError(self.problems)
        meta = board.kampung.fields() if board.kampung else {}
        if getattr(board, "poster_at", None) is not None:
            meta = {**meta, "poster_at": self.frames(board.poster_at)}
        return Timeline(fps, board.output.width, board.output.height, total, tuple(spans), tuple(shots),
                        tuple(texts), tuple(audio), tuple(transitions),
                        title=board.kampung.name if board.kampung else "", rules=board.output.rules or "",
                        meta=meta)

    def make_shot(self, spec: ShotSpec, scene: Scene, start: int, duration: int, source_in: int) -> Shot:
        return Shot(spec.kind, scene.id, start, duration, str(spec.source) if spec.source else None, source_in,
                    spec.fit, spec.fill, spec.motion, spec.color, spec.title, spec.subtitle, spec.chart, spec.loc)

    def within_scene(self, scene: Scene, span: SceneSpan, item, what: str) -> tuple[int, int] | None:
        at, duration = self.frames(item.at), self.frames(item.duration)
        if duration <= 0:
            self.problems.append(item.loc.problem(_("scene '{id}': {what} is shorter than one frame").format(id=scene.id, what=what)))
            return None
        if at + duration > span.duration:
            self.problems.append(item.loc.problem(
                _("scene '{id}': {what} from {start} for {length} ends after the scene ({scene_length})").format(id=scene.id, what=what, start=_secs(at, self.fps), length=_secs(duration, self.fps), scene_length=_secs(span.duration, self.fps)), _("start it earlier or shorten it")))
            return None
        return span.start + at, duration

    def motion(self, kind: str, text: TimedText | None = None) -> tuple[str, int]:
        """A text's motion and its frames at the output rate: its own `motion:`, else defaults.text_motion, else
        TEXT_MOTION (whose frames count at 30 fps). `none` has 0 frames."""
        spec = (text.motion if text is not None else None) or self.board.text_motion.get(kind)
        default_kind, default_frames = TEXT_MOTION[kind]
        motion, frames = spec if spec is not None else (default_kind, None)
        if motion == "none":
            return "none", 0
        if frames is None:
            frames = round(default_frames * self.fps / 30)
        return motion, frames

    def scene_texts(self, scene: Scene, span: SceneSpan, incoming: int, outgoing: int) -> list[TextItem]:
        out = []
        if scene.title:
            placed = self.within_scene(scene, span, scene.title, "title")
            if placed:
                out.append(TextItem("title", scene.id, *placed, scene.title.text, where=scene.title.loc,
                                    motion=self.motion("title", scene.title)))
        for lower in scene.lower_thirds:
            placed = self.within_scene(scene, span, lower, _("lower third"))
            if placed:
                out.append(TextItem("lower_third", scene.id, *placed, lower.text, lower.subtext, lower.loc,
                                    self.motion("lower_third", lower)))
        even = [c for c in scene.captions if c.at is None]
        for caption in scene.captions:
            if caption.at is not None:
                placed = self.within_scene(scene, span, caption, "caption")
                if placed:
                    out.append(TextItem("caption", scene.id, *placed, caption.text, where=caption.loc,
                                        motion=self.motion("caption", caption)))
        if even:
            window_start = span.start + incoming
            window = span.duration - incoming - outgoing
            n = len(even)
            for i, caption in enumerate(even):
                begin = window_start + (i * window) // n
                end = window_start + ((i + 1) * window) // n - CAPTION_GAP_FRAMES
                if end - begin <= 0:
                    self.problems.append(caption.loc.problem(
                        _("scene '{id}': {n} captions do not fit in {secs}").format(id=scene.id, n=n, secs=_secs(window, self.fps)),
                        _("use fewer captions or a longer scene")))
                    break
                if self.max_caption_frames is not None:
                    end = min(end, begin + self.max_caption_frames)  # a plain caption stays no longer than the rules allow
                out.append(TextItem("caption", scene.id, begin, end - begin, caption.text, where=caption.loc,
                                    motion=self.motion("caption", caption)))
        return sorted(out, key=lambda t: (t.start, t.kind))

    def narration(self, scene: Scene, span: SceneSpan) -> list[AudioItem]:
        spec = scene.narration
        speech = self.speech.get(scene.id)
        if spec.file is None:  # text only: the scratch voice's cached WAV
            if speech is None:
                return []
            source, name, voice = speech.source, _("(scratch voice)"), speech.voice
        else:
            source, name, voice = str(spec.file), spec.file.name, None
        info = self.media.get(source)
        if info is None:
            return []
        if not info.audio:
            self.problems.append(spec.loc.problem(_("scene '{id}': narration {name} has no sound").format(id=scene.id, name=name)))
            return []
        at = self.frames(spec.at)
        length = media_frames(info, self.fps)
        if at + length > span.duration:
            hint = (_("lengthen the scene's shots or trim the narration") if spec.file is not None else
                    _("shorten the text, raise narration.rate, or lengthen the scene's shots"))
            self.problems.append(spec.loc.problem(
                _("scene '{id}': narration {name} is {length}; from {start} it runs {over} past the end of the scene ({scene_length})").format(id=scene.id, name=name, length=_secs(length, self.fps), start=_secs(at, self.fps), over=_secs(at + length - span.duration, self.fps), scene_length=_secs(span.duration, self.fps)), hint))
            return []
        return [AudioItem("narration", source, span.start + at, length, 0, spec.volume, scene=scene.id,
                          where=spec.loc, voice=voice)]

    def narration_captions(self, scene: Scene, span: SceneSpan) -> list[TextItem]:
        """`captions: from_narration`: cues split from the narration text, timed to its words."""
        speech = self.speech.get(scene.id)
        if speech is None or not speech.words:
            return []
        at = self.frames(scene.narration.at)
        cues = make_cues(speech.text, speech.words, self.cue_limits, self.fps, end_limit=span.duration - at)
        return [TextItem("caption", scene.id, span.start + at + cue.start, cue.end - cue.start, cue.text,
                         where=scene.narration.loc, motion=self.motion("caption")) for cue in cues]

    def music(self, total: int) -> list[AudioItem]:
        music = self.board.music
        info = self.media.get(str(music.file))
        if info is None or total <= 0:
            return []
        if not info.audio:
            self.problems.append(music.loc.problem(_("music {name} has no sound").format(name=music.file.name)))
            return []
        length = media_frames(info, self.fps)
        if length <= 0:
            self.problems.append(music.loc.problem(_("music {name} is shorter than one frame").format(name=music.file.name)))
            return []
        items, start = [], 0
        while start < total:  # a short bed loops, each pass an item of its own
            duration = min(length, total - start)
            items.append(AudioItem("music", str(music.file), start, duration, 0, music.volume, music.duck,
                                   where=music.loc))
            start += duration
        return items


def resolve_timeline(board: Storyboard, media: dict[str, MediaInfo], speech: dict[str, Speech] | None = None,
                     cue_limits: CueLimits | None = None, *, max_caption_seconds: float | None = None) -> Timeline:
    """Raises SpecError listing every timing problem, each pointing at its storyboard line.

    `speech` (scene id → Speech, from kbvideo.speech.narration) times narration written as text and the
    captions split from it; its scratch WAVs must be in `media` too. Captions written as plain strings
    share their scene evenly; with `max_caption_seconds` (the rules profile's limit) each stays on screen
    at most that long, from the start of its share."""
    return _Resolver(board, media, speech, cue_limits, max_caption_seconds).resolve()
