"""Planned timeline → OpenTimelineIO, for an editor to finish the cut (Resolve, Premiere, Kdenlive).

Tracks (top to bottom in an editor):
  V1 "Gambar"      every shot: clips reference the original files, with their source range starting at
                   the source's own frame rate (durations at the programme's rate, so every record
                   position is the plan's to the frame); stills reference the picture; title cards and
                   charts are GeneratorReferences ("kbvideo.card" / "kbvideo.chart") carrying their text.
  A1 "Suara klip", A2 "Narasi", A3 "Musik"   sound, each clip with its gain (metadata "kbvideo".volume and
                   an "AudioVolume" effect holding the linear gain and dB), music with its `duck` flag.
Markers on the timeline: one per scene (its id and topic) and one per title, lower third and caption,
over the frames it is on screen (its text as the marker's name).

kbvideo's transitions overlap two scenes: the next scene starts `d` frames before the previous ends.
In OTIO a transition borrows frames beyond its neighbours' cut instead; so the outgoing shot is cut
where the transition starts and the transition (`in_offset` 0, `out_offset` d) plays the outgoing
shot's next `d` frames over the incoming one, which starts at its in point at the plan's frame.
"""

from __future__ import annotations

import contextlib
import io
import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio

from kbvideo.errors import Loc, UsageError
from kbvideo.fsutil import atomic_path
from kbvideo.i18n import _
from kbvideo.media.probe import MediaInfo
from kbvideo.timeline.model import AudioItem, Shot, Timeline

NAMESPACE = "kbvideo"
ADAPTERS = {".otio": "otio_json", ".xml": "fcp_xml", ".kdenlive": "kdenlive"}
TRANSITION_NAMES = {"crossfade": "Cross Dissolve", "fade_black": "Dip to Color Dissolve"}
MARKER_COLOURS = {"scene": otio.schema.MarkerColor.GREEN, "title": otio.schema.MarkerColor.PURPLE,
                  "lower_third": otio.schema.MarkerColor.CYAN, "caption": otio.schema.MarkerColor.YELLOW}


def _where(loc: Loc | None) -> str | None:
    """A place in the storyboard as the metadata keeps it (JSON): "path:line:col"."""
    return str(loc) if loc else None


def _rate(fps: Fraction) -> float:
    return float(fps)


def _time(frames: int | float, fps: Fraction) -> otio.opentime.RationalTime:
    return otio.opentime.RationalTime(frames, _rate(fps))


def _range(start, duration, fps: Fraction) -> otio.opentime.TimeRange:
    return otio.opentime.TimeRange(_time(start, fps), _time(duration, fps))


def source_rate(info: MediaInfo | None, fps: Fraction) -> Fraction:
    """A video source's own frame rate (its average rate), else the programme's."""
    video = info.main_video if info is not None else None
    return Fraction(video.fps) if video is not None and video.fps else fps


def source_start(source_in: int, fps: Fraction, rate: Fraction) -> int:
    """The in point (frames at the programme's rate) as a frame of the source at its own rate."""
    return math.floor(Fraction(source_in) / fps * rate + Fraction(1, 2))


@dataclass(slots=True)
class _Placed:
    start: int  # programme frame
    duration: int
    item: otio.schema.Clip
    fade: str | None = None  # transition kind into this item when it overlaps the previous one


def _reference(path: str, info: MediaInfo | None, rate: Fraction, fps: Fraction) -> otio.schema.ExternalReference:
    available = None
    if info is not None and info.kind in ("video", "audio"):
        seconds = (info.main_video.duration if info.main_video and info.main_video.duration else None) or info.duration
        if seconds:
            frames = math.floor(Fraction(seconds).limit_denominator(1_000_000) * rate + Fraction(1, 1000))
            available = otio.opentime.TimeRange(_time(0, rate), _time(frames, rate))
    return otio.schema.ExternalReference(target_url=Path(path).resolve().as_uri(), available_range=available)


def _shot_clip(shot: Shot, fps: Fraction, media: dict[str, MediaInfo]) -> otio.schema.Clip:
    # "start" (programme frame) also keeps look-alike clips distinct: FCP 7 XML would merge identical ones
    meta = {"scene": shot.scene, "kind": shot.kind, "start": shot.start, "where": _where(shot.where), "fit": shot.fit,
            "fill": shot.fill}
    if shot.kind == "clip":
        info = media.get(shot.source)
        rate = source_rate(info, fps)
        reference = _reference(shot.source, info, rate, fps)
        source = otio.opentime.TimeRange(_time(source_start(shot.source_in, fps, rate), rate), _time(shot.duration, fps))
        name = Path(shot.source).name
    elif shot.kind == "still":
        reference = otio.schema.ExternalReference(target_url=Path(shot.source).resolve().as_uri(),
                                                  available_range=_range(0, shot.duration, fps))  # a picture: any length
        source = _range(0, shot.duration, fps)
        name = Path(shot.source).name
        meta["motion"] = shot.motion
    else:
        parameters = {"title": shot.title or "", "subtitle": shot.subtitle or "", "color": shot.color}
        if shot.chart is not None:
            parameters.update(chart_title=shot.chart.title, labels=list(shot.chart.labels),
                              values=list(shot.chart.values), unit=shot.chart.unit, style=shot.chart.style)
        name = (shot.chart.title if shot.chart else shot.title) or shot.kind
        # FCP 7 XML writes it as a generator item (named with its title) instead of a file it cannot find
        fcp = {"effecttype": "generator", "mediatype": "video", "effectcategory": "kbvideo"}
        reference = otio.schema.GeneratorReference(name=name, generator_kind=f"kbvideo.{shot.kind}",
                                                   parameters=parameters, available_range=_range(0, shot.duration, fps),
                                                   metadata={"fcp_xml": fcp})
        source = _range(0, shot.duration, fps)
    return otio.schema.Clip(name=name, media_reference=reference, source_range=source, metadata={NAMESPACE: meta})


def _sound_clip(item: AudioItem, fps: Fraction, media: dict[str, MediaInfo]) -> otio.schema.Clip:
    info = media.get(item.source)
    reference = _reference(item.source, info, fps, fps)
    gain_db = 20 * math.log10(item.volume) if item.volume > 0 else -math.inf
    meta = {"kind": item.kind, "start": item.start, "volume": item.volume, "scene": item.scene, "where": _where(item.where)}
    if item.kind == "music":
        meta["duck"] = item.duck
    voice = getattr(item, "voice", None)
    if voice:  # the scratch voice's rendering (in kbvideo's cache), a stand-in until the narration is recorded
        meta["scratch_voice"] = voice
    effect = otio.schema.Effect(name="volume", effect_name="AudioVolume",
                                metadata={NAMESPACE: {"gain": item.volume,
                                                      "gain_db": round(gain_db, 2) if item.volume > 0 else None}})
    name = Path(item.source).name if not voice else _("scratch voice: {scene}").format(scene=item.scene)
    return otio.schema.Clip(name=name, media_reference=reference,
                            source_range=_range(item.source_in, item.duration, fps), effects=[effect],
                            metadata={NAMESPACE: meta})


def _duration(clip: otio.schema.Clip, fps: Fraction) -> int:
    return round(clip.source_range.duration.rescaled_to(_rate(fps)).value)


def _trim_tail(clip: otio.schema.Clip, frames: int, fps: Fraction) -> None:
    source = clip.source_range
    duration = source.duration.rescaled_to(_rate(fps))
    clip.source_range = otio.opentime.TimeRange(source.start_time, _time(duration.value - frames, fps))


def _track(name: str, kind: str, placed: list[_Placed], fps: Fraction) -> otio.schema.Track:
    """Items at their programme frames: gaps fill holes; an overlap becomes a transition (see module doc)."""
    track = otio.schema.Track(name=name, kind=kind)
    cursor = 0
    last: otio.schema.Clip | None = None
    for entry in sorted(placed, key=lambda p: p.start):
        if entry.start > cursor:
            track.append(otio.schema.Gap(source_range=_range(0, entry.start - cursor, fps)))
            cursor = entry.start
            last = None
        overlap = cursor - entry.start
        if overlap > 0 and last is not None and _duration(last, fps) > overlap:
            _trim_tail(last, overlap, fps)
            kind = entry.fade or "crossfade"
            track.append(otio.schema.Transition(
                name=TRANSITION_NAMES.get(kind, kind), transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
                in_offset=_time(0, fps), out_offset=_time(overlap, fps),
                metadata={NAMESPACE: {"kind": kind}, "fcp_xml": {"alignment": "start",
                                                                   "effectid": TRANSITION_NAMES.get(kind, kind)}}))
            position = entry.start
        elif overlap > 0:  # overlaps a gap or a too-short clip: start later instead (never met in a plan)
            _trim_head(entry, overlap, fps)
            position = cursor
        else:
            position = entry.start
        track.append(entry.item)
        cursor = position + _duration(entry.item, fps)
        last = entry.item
    return track


def _trim_head(entry: _Placed, frames: int, fps: Fraction) -> None:
    source = entry.item.source_range
    start = source.start_time + _time(frames, fps).rescaled_to(source.start_time.rate)
    entry.item.source_range = otio.opentime.TimeRange(start, _time(_duration(entry.item, fps) - frames, fps))


def build_otio(timeline: Timeline, media: dict[str, MediaInfo], *, name: str | None = None) -> otio.schema.Timeline:
    fps = timeline.fps
    into = {t.to_scene: t.kind for t in timeline.transitions if t.duration > 0}
    first_shot = {}
    for shot in sorted(timeline.shots, key=lambda s: s.start):
        first_shot.setdefault(shot.scene, shot)
    video = [_Placed(s.start, s.duration, _shot_clip(s, fps, media),
                     into.get(s.scene) if first_shot.get(s.scene) is s else None) for s in timeline.shots]
    result = otio.schema.Timeline(name=name or timeline.title or "kbvideo",
                                  global_start_time=_time(0, fps),
                                  metadata={NAMESPACE: {"fps": str(fps), "width": timeline.width,
                                                        "height": timeline.height, "rules": timeline.rules,
                                                        "frames": timeline.duration}})
    result.tracks.append(_track("Gambar", otio.schema.TrackKind.Video, video, fps))
    for label, kind in (("Suara klip", "clip"), ("Narasi", "narration"), ("Musik", "music")):
        items = [a for a in timeline.audio if a.kind == kind]
        placed = [_Placed(a.start, a.duration, _sound_clip(a, fps, media),
                          into.get(a.scene) if kind == "clip" else None) for a in items]
        result.tracks.append(_track(label, otio.schema.TrackKind.Audio, placed, fps))
    markers = result.tracks.markers
    for index, scene in enumerate(timeline.scenes, 1):
        markers.append(otio.schema.Marker(name=f"{index}. {scene.id} ({scene.topic})",
                                          marked_range=_range(scene.start, 0, fps), color=MARKER_COLOURS["scene"],
                                          metadata={NAMESPACE: {"kind": "scene", "scene": scene.id,
                                                                "duration": scene.duration}}))
    for text in sorted(timeline.texts, key=lambda t: (t.start, t.kind)):
        label = text.text if not text.subtext else f"{text.text} — {text.subtext}"
        markers.append(otio.schema.Marker(name=label, marked_range=_range(text.start, text.duration, fps),
                                          color=MARKER_COLOURS.get(text.kind, otio.schema.MarkerColor.RED),
                                          metadata={NAMESPACE: {"kind": text.kind, "scene": text.scene,
                                                                "text": text.text, "subtext": text.subtext,
                                                                "where": _where(text.where)}}))
    return result


def write_export(timeline: Timeline, media: dict[str, MediaInfo], path: Path, *, name: str | None = None) -> Path:
    """Write `.otio`, `.xml` (Final Cut Pro 7 XML) or `.kdenlive`; the file appears complete or not at all."""
    path = Path(path)
    adapter = ADAPTERS.get(path.suffix.lower())
    if adapter is None:
        raise UsageError(_("cannot export to '{name}': unknown kind of file").format(name=path.name),
                         hint=_("use .otio (OpenTimelineIO), .xml (Final Cut Pro 7 XML: Resolve, Premiere) "
                                "or .kdenlive"))
    result = build_otio(timeline, media, name=name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, suffix=path.suffix) as tmp, contextlib.redirect_stdout(io.StringIO()):
        otio.adapters.write_to_file(result, str(tmp), adapter_name=adapter)  # (the Kdenlive adapter prints a banner)
    return path


def read_export(path: Path) -> otio.schema.Timeline:
    adapter = ADAPTERS.get(Path(path).suffix.lower())
    with contextlib.redirect_stdout(io.StringIO()):
        return otio.adapters.read_from_file(str(path), adapter_name=adapter)
