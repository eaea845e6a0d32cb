"""`kbvideo init`: a new village's storyboard (building on a template) and placeholder media.

    made = init_village("Kampung KB Mekar Sari", Path("."))
    made.storyboard    # storyboards/mekar-sari.yaml: extends the template, kampung + vars to fill in
    made.assets        # assets/mekar-sari/: one placeholder per file the template names

Placeholders are generated (no media ships with kbvideo): a picture saying which file to replace
(as a still, or as a silent video long enough for the template's in/out points) and a soft tone for
sound. So the new storyboard validates and renders at once; a team then swaps in real footage
under the same names.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from kbvideo import proc as processes
from kbvideo.batch.roster import slugify
from kbvideo.storyboard.template import load_storyboard_node, placeholders_in
from kbvideo.errors import UsageError
from kbvideo.fsutil import atomic_path, write_atomic
from kbvideo.i18n import _
from kbvideo.media.ffmpeg_bin import ffmpeg_exe
from kbvideo.storyboard.nodes import YNode
from kbvideo.timecode import parse_time

DEFAULT_TEMPLATE = "standar.yaml"
VIDEO_EXT = (".mp4", ".mov", ".m4v", ".mkv")
IMAGE_EXT = (".png", ".jpg", ".jpeg")
AUDIO_EXT = (".m4a", ".mp3", ".wav", ".aac")


@dataclass(slots=True)
class Scaffold:
    storyboard: Path
    assets: Path
    template: Path
    placeholders: list[Path] = field(default_factory=list)


def builtin_template_text() -> str:
    return resources.files("kbvideo.batch").joinpath("templates", DEFAULT_TEMPLATE).read_text(encoding="utf-8")


def _seconds(node: YNode | None) -> float | None:
    if node is None or node.kind != "scalar":
        return None
    try:
        value = parse_time(node.value)
    except ValueError:
        return None
    return float(value.seconds) if value.seconds is not None else None


def _needs(tree: YNode) -> dict[str, tuple[str, float]]:
    """Asset paths as written → (kind, seconds needed) for every clip, still, narration and music."""
    found: dict[str, tuple[str, float]] = {}

    def add(node: YNode | None, kind: str, seconds: float = 0.0) -> None:
        if node is not None and node.kind == "scalar":
            label = node.source.label if node.source else ""
            key = f"{label}\x00{node.value}"
            old = found.get(key, (kind, 0.0))
            found[key] = (kind, max(old[1], seconds))

    music = tree.get("music")
    add(music if music is not None and music.kind == "scalar" else (music.get("file") if music else None), "music", 20)
    scenes = tree.get("scenes")
    for scene in scenes.value if scenes is not None and scenes.kind == "seq" else []:
        if scene.kind != "map":
            continue
        length = 0.0
        shots = scene.get("shots")
        for shot in shots.value if shots is not None and shots.kind == "seq" else []:
            if shot.kind != "map":
                continue
            start = _seconds(shot.get("in")) or 0.0
            dur = _seconds(shot.get("duration"))
            end = _seconds(shot.get("out")) or (start + dur if dur else start + 5)
            length += end - start if shot.get("clip") is not None else (dur or 0)
            if shot.get("clip") is not None:
                add(shot.get("clip"), "video", end + 1)
            elif shot.get("still") is not None:
                add(shot.get("still"), "image")
        narration = scene.get("narration")
        at = _seconds(narration.get("at")) if narration is not None and narration.kind == "map" else 0.0
        room = max(0.5, min(3.0, length - (at or 0.0) - 0.25))
        add(narration if narration is not None and narration.kind == "scalar" else
            (narration.get("file") if narration is not None else None), "audio", room)
    return found


def _fill(text: str, values: dict[str, str]) -> str:
    return re.sub(r"\{([^{}]*)\}", lambda m: values.get(m.group(1).strip(), m.group(0)), text)


def make_placeholder(path: Path, kind: str, seconds: float) -> None:
    """One placeholder file: a labelled picture, a silent video of it, or a soft tone."""
    from PIL import Image, ImageDraw, ImageFont

    path.parent.mkdir(parents=True, exist_ok=True)

    def picture(target: Path, size: tuple[int, int]) -> None:
        image = Image.new("RGB", size, (11, 93, 59))
        draw = ImageDraw.Draw(image)
        font_path = resources.files("kbvideo").joinpath("fonts", "DejaVuSans-Bold.ttf")
        font = ImageFont.truetype(str(font_path), max(12, size[1] // 14))
        text = f"GANTI / REPLACE:\n{path.name}"
        draw.multiline_text((size[0] // 2, size[1] // 2), text, font=font, fill=(255, 255, 255), anchor="mm",
                            align="center")
        image.save(target, format="JPEG" if target.suffix.lower() in (".jpg", ".jpeg") else "PNG")

    def ffmpeg(*args: str) -> None:
        child = processes.popen([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            _out, stderr = child.communicate()
        except BaseException:
            processes.kill_group(child)
            child.wait()
            raise
        if child.returncode != 0:
            raise UsageError(_("could not make the placeholder {path}: {reason}").format(path=path, reason=stderr.strip()[-300:]))

    if kind == "image" or path.suffix.lower() in IMAGE_EXT:
        with atomic_path(path, suffix=path.suffix) as tmp:
            picture(tmp, (1280, 720))
        return
    if kind == "video" or path.suffix.lower() in VIDEO_EXT:
        with atomic_path(path) as tmp:
            frame = tmp.with_suffix(".png")  # scratch picture, never moved into place
            try:
                picture(frame, (320, 180))
                ffmpeg("-loop", "1", "-framerate", "30", "-i", str(frame), "-f", "lavfi", "-i",
                       "anullsrc=r=48000:cl=stereo", "-t", f"{seconds:.3f}", "-map", "0:v", "-map", "1:a",
                       "-c:v", "libx264", "-preset", "ultrafast", "-tune", "stillimage", "-pix_fmt", "yuv420p",
                       "-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart", "-f", "mp4", str(tmp))
            finally:
                frame.unlink(missing_ok=True)
        return
    codec, fmt = {".mp3": ("libmp3lame", "mp3"), ".wav": ("pcm_s16le", "wav")}.get(path.suffix.lower(), ("aac", "ipod"))
    freq = 330 if kind == "music" else 220
    with atomic_path(path) as tmp:
        ffmpeg("-f", "lavfi", "-i", f"sine=frequency={freq}:sample_rate=48000", "-t", f"{seconds:.3f}",
               "-af", "volume=-20dB", "-ac", "2", "-c:a", codec, "-f", fmt, str(tmp))


def _yaml_text(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def init_village(name: str, project: Path, *, template: Path | None = None, slug: str | None = None,
                 force: bool = False) -> Scaffold:
    """Write storyboards/<slug>.yaml and assets/<slug>/ placeholders. Raises UsageError if it exists."""
    if not name.strip():
        raise UsageError(_("--kampung needs the kampung's name"))
    project = Path(project)
    slug = slug or slugify(name)
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", slug):
        raise UsageError(_("id '{slug}' may hold only lower-case letters, digits, '-' and '_'").format(slug=slug))
    boards = project / "storyboards"
    if template is None:
        template = boards / "templates" / DEFAULT_TEMPLATE
        if not template.exists():
            template.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(template, builtin_template_text())
    if not template.is_file():
        raise UsageError(_("template not found: {template}").format(template=template))
    storyboard = boards / f"{slug}.yaml"
    if storyboard.exists() and not force:
        raise UsageError(_("{storyboard} already exists").format(storyboard=storyboard), _("choose another --id, or pass --force to overwrite it"))
    assets = project / "assets" / slug
    tree = load_storyboard_node(template)
    declared = tree.get("vars")
    declared_names = set(declared.value) if declared is not None and declared.kind == "map" else set()
    used = placeholders_in(tree)
    numeric = {n for n, nodes in used.items() if any(_in_chart(tree, node) for node in nodes)}
    variables: dict[str, str] = {}
    for placeholder in sorted(used):
        if not placeholder.startswith("vars.") or placeholder[5:] in declared_names:
            continue
        var = placeholder[5:]
        if var == "asset_dir":
            variables[var] = slug
        elif placeholder in numeric:
            variables[var] = "10"
        else:
            variables[var] = f"ISI: {var}"
    boards.mkdir(parents=True, exist_ok=True)
    rel_template = Path(_relpath(template.resolve(), storyboard.parent.resolve()))
    lines = [
        "# " + _("{name}: storyboard made by `kbvideo init` from {template}.").format(
            name=name, template=rel_template.as_posix()),
        "# " + _("Keys written here win over the template's; scenes merge by id:"),
        "# " + _("{example} removes a scene, 'after: ID' or 'before: ID' places a new one.").format(
            example="- {id: penutup, drop: true}"),
        "# " + _("Media: replace every placeholder in assets/{folder}/ with the real file of the same name.").format(
            folder=slug),
        "schema_version: 1",
        f"extends: {_yaml_text(rel_template.as_posix())}",
        "",
        "kampung:",
        f"  name: {_yaml_text(name)}",
    ]
    base = tree.get("kampung")
    notes = {"desa": "ganti; kelurahan? tulis kelurahan: sebagai gantinya",
             "kelurahan": "ganti; desa? tulis desa: sebagai gantinya",
             "kota": "ganti; kabupaten? tulis kabupaten: sebagai gantinya",
             "kabupaten": "ganti; kota? tulis kota: sebagai gantinya"}
    for key in ("desa", "kelurahan", "kecamatan", "kota", "kabupaten", "provinsi", "category", "year"):
        node = base.get(key) if base is not None and base.kind == "map" else None
        if node is not None and node.kind == "scalar":
            lines.append(f"  {key}: {_yaml_text(node.value) if key != 'year' else node.value}"
                         f"   # {notes.get(key, 'ganti / fill in')}")
    if variables:
        lines += ["", "vars:"]
        for var, value in variables.items():
            note = "   # angka contoh: ganti dengan data Posyandu" if value == "10" else ""
            lines.append(f"  {var}: {_yaml_text(value)}{note}")
    text = "\n".join(lines) + "\n"
    storyboard.parent.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []
    with atomic_path(storyboard) as tmp:  # the storyboard appears once its placeholders are made
        tmp.write_text(text, encoding="utf-8")
        values = {f"vars.{k}": v for k, v in variables.items()}
        for key, (kind, seconds) in _needs(load_storyboard_node(tmp)).items():
            label, written = key.split("\x00", 1)
            path = (Path(label).resolve().parent / _fill(written, values)).resolve()
            if path.exists():
                continue
            if not path.is_relative_to(project.resolve()):
                continue  # outside the project: not ours to create
            make_placeholder(path, kind, max(seconds, 1.0))
            made.append(path)
    assets.mkdir(parents=True, exist_ok=True)
    return Scaffold(storyboard, assets, template, made)


def _in_chart(tree: YNode, target: YNode) -> bool:
    scenes = tree.get("scenes")
    for scene in scenes.value if scenes is not None and scenes.kind == "seq" else []:
        shots = scene.get("shots") if scene.kind == "map" else None
        for shot in shots.value if shots is not None and shots.kind == "seq" else []:
            chart = shot.get("chart") if shot.kind == "map" else None
            data = chart.get("data") if chart is not None else None
            if data is None:
                continue
            values = [v for _, v in data.value.values()] if data.kind == "map" else [
                item.get("value") for item in data.value if item.kind == "map"]
            if any(v is target for v in values):
                return True
    return False


def _relpath(path: Path, start: Path) -> str:
    return os.path.relpath(path, start)
