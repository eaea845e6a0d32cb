"""Renders of tiny hand-built timelines, checked on the probed output: frame counts, formats, pixels,
sound, loudness, conformed sources, atomic output, segment cache."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import signal
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from conftest import run_ffmpeg
from kbvideo.errors import Loc, RenderError, SpecError, UsageError
from kbvideo.media.ffmpeg_bin import ffmpeg_exe
from kbvideo.render import render_timeline
from kbvideo.render.segments import plan_segments
from kbvideo.rules.profile import load_profile
from kbvideo.timeline.model import AudioItem, SceneSpan, Shot, TextItem, Timeline, Transition

pytestmark = pytest.mark.media  # every test here encodes real media

PROFILE = dataclasses.replace(load_profile(), master_fade_in=0.0, master_fade_out=0.0)  # fades have their own tests
RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 255, 0)


# ---------------------------------------------------------------- helpers
def build(scenes, *, fps=Fraction(30), size=(160, 90), transitions=(), texts=(), extra_audio=(), clip_audio=True):
    """scenes: list of (scene id, [Shot kwargs without scene/start]) ; transitions: list of (kind, frames)."""
    spans, shots, audio, trans = [], [], [], []
    start = 0
    for index, (scene_id, specs) in enumerate(scenes):
        cursor = start
        for spec in specs:
            shot = Shot(scene=scene_id, start=cursor, **spec)
            shots.append(shot)
            if clip_audio and shot.kind == "clip":
                audio.append(AudioItem("clip", shot.source, cursor, shot.duration, shot.source_in, scene=scene_id))
            cursor += shot.duration
        spans.append(SceneSpan(scene_id, "other", (), start, cursor - start))
        overlap = 0
        if index < len(scenes) - 1:
            kind, overlap = transitions[index] if index < len(transitions) else ("cut", 0)
            trans.append(Transition(kind, scene_id, scenes[index + 1][0], cursor - overlap, overlap))
        start = cursor - overlap
    total = spans[-1].end
    audio += list(extra_audio)
    return Timeline(Fraction(fps), size[0], size[1], total, tuple(spans), tuple(shots), tuple(texts), tuple(audio),
                    tuple(trans))


def clip(path, frames, **kw):
    return dict(kind="clip", duration=frames, source=str(path), **kw)


def still(path, frames, **kw):
    return dict(kind="still", duration=frames, source=str(path), **kw)


def render(timeline, tmp_path, name="out.mp4", **kw):
    kw.setdefault("profile", PROFILE)
    kw.setdefault("cache_dir", tmp_path / "cache")
    kw.setdefault("check", False)  # the rules check has its own tests; the CLI test runs it
    return render_timeline(timeline, tmp_path / name, **kw)


def frames_rgb(path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def close(pixel, colour, tol=60) -> bool:
    return all(abs(int(a) - int(b)) <= tol for a, b in zip(pixel, colour))


def audio_samples(path) -> np.ndarray:
    with av.open(str(path)) as container:
        chunks = [f.to_ndarray() for f in container.decode(audio=0)]
    return np.concatenate(chunks, axis=1)  # (channels, samples), fltp


def streams(path) -> dict:
    with av.open(str(path)) as container:
        v, a = container.streams.video[0], container.streams.audio[0]
        frames = sum(1 for p in container.demux(v) if p.size)
        out = dict(vcodec=v.codec_context.name, profile=v.profile, pix_fmt=v.codec_context.pix_fmt,
                   width=v.codec_context.width, height=v.codec_context.height, rate=v.average_rate,
                   acodec=a.codec_context.name, aprofile=a.profile, sample_rate=a.codec_context.sample_rate,
                   channels=a.codec_context.channels, trc=v.codec_context.color_trc,
                   primaries=v.codec_context.color_primaries, frames=frames,
                   vdur=float(v.duration * v.time_base), adur=float(a.duration * a.time_base))
    return out


def loudness(path) -> tuple[float, float]:
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostats", "-i", str(path), "-map", "0:a",
                           "-af", "ebur128=peak=true", "-f", "null", "-"], capture_output=True, text=True)
    summary = proc.stderr[proc.stderr.rfind("Summary:"):]
    integrated = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))
    peak = float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary).group(1))
    return integrated, peak


def two_colour_clip(tmp_path, name="split.mp4", rotate=None) -> Path:
    """160x90: top half red, bottom half blue; rotate stores a display matrix (degrees counter-clockwise)."""
    plain = tmp_path / ("plain-" + name)
    run_ffmpeg("-f", "lavfi", "-i", "color=c=red:s=160x45:r=30:d=1.2[a];color=c=blue:s=160x45:r=30:d=1.2[b];"
               "[a][b]vstack[out0]", "-f", "lavfi", "-i", "sine=frequency=500:sample_rate=48000:d=1.2",
               "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(plain))
    if rotate is None:
        return plain
    out = tmp_path / name
    run_ffmpeg("-display_rotation", str(rotate), "-i", str(plain), "-c", "copy", str(out))
    return out


# ---------------------------------------------------------------- timing and transitions
@pytest.mark.parametrize("kind", ["cut", "crossfade", "fade_black"])
def test_transitions_exact_length_and_pixels(media, tmp_path, kind):
    red = media.clip("red.mp4", color="red", seconds=1.2)
    blue = media.clip("blue.mp4", color="blue", seconds=1.2, tone=660)
    overlap = 0 if kind == "cut" else 10
    timeline = build([("a", [clip(red, 30)]), ("b", [clip(blue, 30)])], transitions=[(kind, overlap)])
    assert timeline.duration == 60 - overlap
    result = render(timeline, tmp_path)
    info = streams(result.path)
    assert info["frames"] == result.frames == timeline.duration
    frames = frames_rgb(result.path)
    assert len(frames) == timeline.duration
    assert close(frames[5][45, 80], RED) and close(frames[-5][45, 80], BLUE)
    if kind == "cut":
        assert close(frames[29][45, 80], RED) and close(frames[30][45, 80], BLUE)
    else:
        mid = frames[20 + 5][45, 80].astype(int)  # transition occupies frames 20..29
        if kind == "crossfade":
            assert mid[0] > 70 and mid[2] > 70, mid  # a blend of red and blue
        else:
            darkest = min(int(f[45, 80].max()) for f in frames[20:30])
            assert darkest < 40, darkest  # through black
    assert abs(info["vdur"] - info["adur"]) <= 1 / 30 + 0.025


def test_output_format_and_sidecars(media, tmp_path):
    red = media.clip("red.mp4", color="red", seconds=1.2)
    texts = (TextItem("caption", "a", 3, 20, "Kader: \"100%\" it's C:\\x\nline two"),)
    timeline = build([("a", [clip(red, 36)])], texts=texts)
    result = render(timeline, tmp_path, name="video.mp4")
    info = streams(result.path)
    assert (info["vcodec"], info["profile"], info["pix_fmt"]) == ("h264", "High", "yuv420p")
    assert (info["acodec"], info["aprofile"], info["sample_rate"], info["channels"]) == ("aac", "LC", 48000, 2)
    assert info["trc"] == 1 and info["primaries"] == 1  # BT.709
    assert info["rate"] == 30 and info["frames"] == 36
    assert abs(info["vdur"] - 36 / 30) < 1e-3 and abs(info["vdur"] - info["adur"]) <= 1 / 30
    data = result.path.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")  # fast start
    assert result.poster == tmp_path / "video.jpg" and result.poster.stat().st_size > 0
    assert result.report_path == tmp_path / "video.render.json"
    srt = result.sidecars["srt"]
    assert srt == tmp_path / "video.srt" and "Kader: \"100%\" it's C:\\x" in srt.read_text(encoding="utf-8")
    assert (tmp_path / "video.vtt").exists()
    import json

    report = json.loads(result.report_path.read_text())
    assert report["frames"] == 36 and report["timeline"]["frames"] == 36 and "findings" in report
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".kbvideo-render-")]
    assert leftovers == []


def test_still_exact_frames_and_ken_burns_moves(media, tmp_path):
    img = tmp_path / "grid.png"
    pic = Image.new("RGB", (320, 180), (30, 30, 30))
    for x in range(0, 320, 40):
        pic.paste((250, 250, 250), (x, 0, x + 20, 180))
    pic.save(img)
    timeline = build([("a", [still(img, 15, fit="cover")]), ("b", [still(img, 31, fit="cover", motion="zoom_in")])])
    result = render(timeline, tmp_path)
    frames = frames_rgb(result.path)
    assert len(frames) == 46
    moving = [float(np.abs(frames[i].astype(int) - frames[i + 1].astype(int)).mean()) for i in range(17, 43)]
    assert min(moving) > 0  # every frame of the (eased) zoom differs from the next: no stalls, no jitter steps
    assert np.abs(frames[0].astype(int) - frames[14].astype(int)).mean() < 1  # the plain still stays put


# ---------------------------------------------------------------- conforming sources
def test_display_matrix_rotation_is_applied(tmp_path):
    src = two_colour_clip(tmp_path, rotate=90)  # red on top when coded → red on the left when shown
    timeline = build([("a", [clip(src, 20, fill="#000000")])])
    frame = frames_rgb(render(timeline, tmp_path).path)[10]
    # portrait 90x160 shown inside 160x90: about 50 px wide, centred; left half red, right half blue
    assert close(frame[20, 68], RED) and close(frame[70, 68], RED)
    assert close(frame[20, 92], BLUE) and close(frame[70, 92], BLUE)
    assert frame[45, 10].max() < 40  # solid black fill beside it


def test_exif_orientation_and_odd_size_picture(tmp_path):
    img = Image.new("RGB", (81, 41), RED)
    img.paste(BLUE, (41, 0, 81, 41))  # left red, right blue as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # display rotated 90° clockwise: left becomes top
    path = tmp_path / "photo.jpg"
    img.save(path, exif=exif.tobytes(), quality=95)
    timeline = build([("a", [still(path, 10, fill="#000000")])])
    frame = frames_rgb(render(timeline, tmp_path).path)[5]
    assert close(frame[15, 80], RED) and close(frame[75, 80], BLUE)


@pytest.mark.parametrize("mode", ["RGBA", "P"])
def test_transparent_picture_hidden_colour_never_shows(tmp_path, mode):
    img = Image.new("RGBA", (64, 36), (0, 255, 0, 0))  # fully transparent green
    img.paste((255, 0, 0, 255), (16, 9, 48, 27))
    path = tmp_path / f"logo-{mode}.png"
    if mode == "P":
        pal = Image.new("P", (64, 36), 0)
        pal.putpalette([0, 255, 0, 255, 0, 0] + [0] * 762)
        pal.paste(1, (16, 9, 48, 27))
        pal.info["transparency"] = 0
        pal.save(path, transparency=0)
    else:
        img.save(path)
    for fill in ("#202020", "blur"):
        timeline = build([("a", [still(path, 6, fill=fill)])])
        frames = frames_rgb(render(timeline, tmp_path, name=f"o-{fill[1:]}.mp4").path)
        frame = frames[3].astype(int)
        greenish = (frame[..., 1] > 100) & (frame[..., 1] > frame[..., 0] + 40)
        assert not greenish.any()
        assert close(frame[45, 80], RED)


def test_vfr_source_becomes_exact_cfr_with_sound(tmp_path):
    src = tmp_path / "vfr.mp4"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x90:r=30:d=2", "-f", "lavfi", "-i", "sine=f=440:sample_rate=48000:d=2",
               "-vf", "setpts='if(lt(N,20),N*2,N+20)/30/TB'", "-fps_mode", "vfr", "-c:v", "libx264", "-pix_fmt",
               "yuv420p", "-c:a", "aac", "-t", "1.9", str(src))
    timeline = build([("a", [clip(src, 50, source_in=3)])])
    result = render(timeline, tmp_path)
    info = streams(result.path)
    assert info["frames"] == 50 and abs(info["vdur"] - info["adur"]) <= 1 / 30 + 0.025
    assert abs(info["vdur"] - 50 / 30) < 2e-3


@pytest.mark.parametrize("rate,size", [("25", "160x90"), ("30000/1001", "320x180"), ("30", "641x481")])
def test_other_rates_and_sizes(media, tmp_path, rate, size):
    src = media.clip(f"src-{size}.mp4", fps=rate, size=size, seconds=1.3, pix_fmt="yuv444p" if size == "641x481" else "yuv420p")
    for fps in (Fraction(30), Fraction(30000, 1001)):
        timeline = build([("a", [clip(src, 20)]), ("b", [clip(src, 15, source_in=7)])], fps=fps,
                         transitions=[("crossfade", 5)])
        result = render(timeline, tmp_path, name=f"o{fps.numerator}.mp4")
        info = streams(result.path)
        assert info["frames"] == 30 and (info["width"], info["height"]) == (160, 90)
        assert abs(info["vdur"] - info["adur"]) <= float(1 / fps) + 0.025


def test_no_audio_mono_and_stereo_mixed(media, tmp_path):
    silent = media.clip("silent.mp4", audio=False, color="green", seconds=1)
    mono = media.clip("mono.mp4", sample_rate=44100, channels=1, seconds=1, tone=300)
    stereo = media.clip("stereo.mp4", sample_rate=48000, channels=2, seconds=1, tone=900)
    timeline = build([("a", [clip(silent, 15)]), ("b", [clip(mono, 15)]), ("c", [clip(stereo, 15)])])
    assert [a.source for a in timeline.audio][0] == str(silent)
    timeline = Timeline(**{**{f: getattr(timeline, f) for f in timeline.__slots__},
                           "audio": tuple(a for a in timeline.audio if a.source != str(silent))})
    result = render(timeline, tmp_path)
    samples = audio_samples(result.path)
    assert samples.shape[0] == 2
    per = lambda a, b: np.sqrt((samples[:, int(a * 48000):int(b * 48000)] ** 2).mean(axis=1))  # noqa: E731
    assert per(0.05, 0.45).max() < 1e-3  # the silent clip is silent
    left, right = per(0.55, 0.95)
    assert left > 0.01 and abs(left - right) < 0.1 * left  # mono sounds in both channels
    assert per(1.05, 1.45).min() > 0.01
    info = streams(result.path)
    assert abs(info["adur"] - 1.5) <= 1 / 30 + 0.025


def test_hdr_hlg_is_tone_mapped_and_tagged_bt709(tmp_path):
    src = tmp_path / "hlg.mp4"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x90:r=30:d=1", "-vf",
               "setparams=color_trc=arib-std-b67:color_primaries=bt2020:colorspace=bt2020nc,format=yuv420p10le",
               "-c:v", "libx264", str(src))
    result = render(build([("a", [clip(src, 20)])], clip_audio=False), tmp_path)
    info = streams(result.path)
    assert info["pix_fmt"] == "yuv420p" and info["trc"] == 1 and info["frames"] == 20
    assert frames_rgb(result.path)[10].mean() > 30  # a picture, not black


# ---------------------------------------------------------------- sound
def test_loudness_normalised_and_music_ducks(media, tmp_path):
    red = media.clip("red.mp4", color="red", seconds=1.2)
    music = media.tone("music.m4a", seconds=3, freq=220, volume_db=-30)
    speech = media.tone("speech.m4a", seconds=1, freq=1000, volume_db=-20)
    base = build([("a", [clip(red, 30)]), ("b", [clip(red, 30)])], clip_audio=False)
    items = (AudioItem("music", str(music), 0, 60, volume=1.0, duck=True), AudioItem("narration", str(speech), 30, 30))
    timeline = Timeline(**{**{f: getattr(base, f) for f in base.__slots__}, "audio": items})
    result = render(timeline, tmp_path)
    integrated, peak = loudness(result.path)
    assert abs(integrated - PROFILE.loudness.target) <= PROFILE.loudness.tolerance
    assert peak <= PROFILE.loudness.true_peak_max
    samples = audio_samples(result.path)
    spectrum = lambda a, b, f: np.abs(np.fft.rfft(samples[0, int(a * 48000):int(b * 48000)]))[round(f * (b - a))]  # noqa: E731
    assert spectrum(1.1, 1.5, 220) < 0.5 * spectrum(0.2, 0.6, 220)  # music lower under the narration


def test_peaky_sound_is_limited_under_the_true_peak_ceiling(media, tmp_path):
    """Quiet speech-like tone with loud clicks: reaching the target needs gain the peaks cannot take."""
    red = media.clip("red.mp4", color="red", seconds=3.2)
    peaky = tmp_path / "peaky.wav"
    run_ffmpeg("-f", "lavfi", "-i", "aevalsrc='0.04*sin(2*PI*300*t)+0.95*lt(mod(n\\,4800)\\,4)':s=48000:d=3",
               "-c:a", "pcm_s16le", str(peaky))
    base = build([("a", [clip(red, 90)])], clip_audio=False)
    timeline = Timeline(**{**{f: getattr(base, f) for f in base.__slots__},
                           "audio": (AudioItem("narration", str(peaky), 0, 90),)})
    result = render(timeline, tmp_path)
    integrated, peak = loudness(result.path)
    assert abs(integrated - PROFILE.loudness.target) <= PROFILE.loudness.tolerance
    assert peak <= PROFILE.loudness.true_peak_max


def test_loudness_gain_rules():
    from kbvideo.render.audio import loudness_gain

    assert loudness_gain(-20.0, -8.0, -14.0, -1.0) == (6.0, None)  # room under the ceiling: gain only
    gain, limit = loudness_gain(-25.0, -2.0, -14.0, -1.0)  # +11 dB would put the peak at +9 dBTP
    assert gain == 11.0 and limit is not None and limit < -1.0
    assert loudness_gain(-90.0, -90.0, -14.0, -1.0) == (0.0, None)  # silence stays silence
    assert loudness_gain(-20.0, -8.0, None, -1.0) == (0.0, None)


# ---------------------------------------------------------------- safety
def test_refuses_to_overwrite_an_input_also_via_symlink(media, tmp_path, monkeypatch):
    src = tmp_path / "x.mp4"
    src.write_bytes(media.clip("red.mp4", color="red", seconds=1.2).read_bytes())
    link = tmp_path / "link.mp4"
    link.symlink_to(src)
    before = src.read_bytes()
    timeline = build([("a", [clip(src, 10)])])
    monkeypatch.chdir(tmp_path)
    for out in ("./x.mp4", str(link)):
        with pytest.raises(UsageError, match="same"):
            render_timeline(timeline, out, profile=PROFILE, cache_dir=tmp_path / "cache")
    assert src.read_bytes() == before


def test_failing_ffmpeg_leaves_nothing(media, tmp_path, monkeypatch):
    red = media.clip("red.mp4", color="red", seconds=1.2)
    fake = tmp_path / "fake-ffmpeg"
    fake.write_text(f"#!/bin/sh\nfor a in \"$@\"; do [ \"$a\" = concat ] && {{ echo 'disk on fire' >&2; exit 3; }}; done\n"
                    f"exec {ffmpeg_exe()} \"$@\"\n")
    fake.chmod(0o755)
    monkeypatch.setattr("kbvideo.render.ffmpeg.ffmpeg_exe", lambda: str(fake))
    out_dir = tmp_path / "out"
    with pytest.raises(RenderError) as info:
        render_timeline(build([("a", [clip(red, 10)])]), out_dir / "v.mp4", profile=PROFILE, cache_dir=tmp_path / "c")
    assert "disk on fire" in info.value.stderr and "joining" in info.value.message
    assert sorted(p.name for p in out_dir.iterdir()) == []


def test_sigterm_mid_render_leaves_nothing(media, tmp_path):
    red = media.clip("red.mp4", color="red", seconds=1.2)
    out_dir = tmp_path / "out"

    def progress(done, total, stage):
        os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(KeyboardInterrupt):
        render_timeline(build([("a", [clip(red, 30)]), ("b", [clip(red, 30)])]), out_dir / "v.mp4",
                        profile=PROFILE, cache_dir=tmp_path / "c", progress=progress, jobs=1)
    assert sorted(p.name for p in out_dir.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


# ---------------------------------------------------------------- draft, proxies, cache
def test_draft_same_frames_smaller_and_marked(media, tmp_path):
    src = media.clip("big.mp4", size="960x540", seconds=0.8)
    timeline = build([("a", [clip(src, 12)]), ("b", [clip(src, 10, source_in=4)])], size=(960, 540),
                     transitions=[("crossfade", 4)])
    final = render(timeline, tmp_path, name="final.mp4")
    draft = render(timeline, tmp_path, name="final.draft.mp4", draft=True)
    assert draft.frames == final.frames == 18
    info = streams(draft.path)
    assert (info["width"], info["height"]) == (854, 480)
    # the first draft read the original and made proxies of what each segment read, on the way
    proxies = sorted((tmp_path / "cache" / "proxies").glob("*.mp4"))
    assert proxies and all(streams_video_height(p) == 480 for p in proxies)
    assert len(draft.stages["proxies"]["items"]) == len(proxies)
    again = render(timeline, tmp_path, name="second.draft.mp4", draft=True, proxies=False)
    assert again.frames == 18
    # segments gone: the next draft reads those proxies and makes none
    shutil.rmtree(tmp_path / "cache" / "segments")
    third = render(timeline, tmp_path, name="third.draft.mp4", draft=True)
    assert "items" not in third.stages["proxies"] and third.stages["proxies"]["cached"] >= 1
    assert sorted((tmp_path / "cache" / "proxies").glob("*.mp4")) == proxies
    assert third.frames == 18


def streams_video_height(path) -> int:
    with av.open(str(path)) as container:
        return container.streams.video[0].codec_context.height


def test_segment_cache_reuses_unchanged_scenes(media, tmp_path):
    red = media.clip("red.mp4", color="red", seconds=1.2)
    blue = media.clip("blue.mp4", color="blue", seconds=1.2, tone=660)
    texts = (TextItem("caption", "a", 2, 10, "satu"), TextItem("caption", "c", 52, 10, "tiga"))
    scenes = [("a", [clip(red, 25)]), ("b", [clip(blue, 25)]), ("c", [clip(red, 25)])]
    timeline = build(scenes, transitions=[("crossfade", 5), ("cut", 0)], texts=texts)
    assert len(plan_segments(timeline)) == 4
    first = render(timeline, tmp_path)
    assert first.segments_encoded == 4
    second = render(timeline, tmp_path, name="again.mp4")
    assert second.segments_encoded == 0 and second.frames == first.frames
    edited = build(scenes, transitions=[("crossfade", 5), ("cut", 0)],
                   texts=(texts[0], TextItem("caption", "c", 52, 10, "tiga: diubah")))
    third = render(edited, tmp_path, name="edited.mp4")
    assert [s["name"] for s in third.segments if not s["cached"]] == ["03-c"]
    assert third.frames == 70


def test_draft_proxy_of_rotated_clip_stays_upright(tmp_path):
    src = two_colour_clip(tmp_path, rotate=90)
    timeline = build([("a", [clip(src, 12, fill="#000000")])], size=(1280, 720))
    frame = frames_rgb(render(timeline, tmp_path, draft=True).path)[6]
    assert frame.shape[:2] == (480, 854)
    assert close(frame[100, 400], RED) and close(frame[380, 400], RED)
    assert close(frame[100, 455], BLUE) and close(frame[380, 455], BLUE)


def test_cli_render_storyboard(media, project):
    from click.testing import CliRunner

    from conftest import copy_into
    from kbvideo.cli import main

    copy_into(media.clip("red.mp4", color="red", seconds=1.2), project / "assets", "a.mp4")
    copy_into(media.clip("blue.mp4", color="blue", seconds=1.2, tone=660), project / "assets", "b.mp4")
    board = project / "storyboards" / "desa.yaml"
    board.write_text(
        "kampung:\n  name: Kampung KB Contoh\n  kelurahan: Jenggot\n  kota: Kota Pekalongan\n"
        "output:\n  size: 160x90\n  fps: 30\n"
        "scenes:\n"
        "  - id: a\n    topic: dashat\n    shots:\n      - clip: ../assets/a.mp4\n        duration: 1\n"
        "    captions:\n      - {text: \"Dashat: 100% 'jalan'\", at: 0.1, duration: 0.8}\n"
        "    transition: {type: crossfade, duration: 0.2}\n"
        "  - id: b\n    topic: pemberdayaan\n    shots:\n      - clip: ../assets/b.mp4\n        duration: 1\n",
        encoding="utf-8")
    result = CliRunner().invoke(main, ["render", str(board), "--quiet"], catch_exceptions=False)
    out = project / "out" / "desa.mp4"
    assert out.exists(), result.output
    assert f"wrote {out}" in result.output and "rules lomba-kampung-kb-2025:" in result.output
    assert "  time: segments " in result.output  # the short line from the report's stages
    assert streams(out)["frames"] == 54
    assert result.exit_code in (0, 1)
    draft = CliRunner().invoke(main, ["render", str(board), "--draft", "--quiet"], catch_exceptions=False)
    assert (project / "out" / "desa.draft.mp4").exists(), draft.output
    assert streams(project / "out" / "desa.draft.mp4")["frames"] == 54


def test_missing_glyph_refused_before_rendering(media, tmp_path):
    red = media.clip("red.mp4", color="red", seconds=1.2)
    texts = (TextItem("caption", "a", 0, 10, "Kampung \u6f22", where=Loc("sb.yaml", 9, 7)),)
    with pytest.raises(SpecError) as caught:
        render(build([("a", [clip(red, 10)])], texts=texts), tmp_path)
    (problem,) = caught.value.problems
    assert (problem.path, problem.line, problem.col) == ("sb.yaml", 9, 7)
    assert "U+6F22" in problem.message
    assert not (tmp_path / "out.mp4").exists() and not (tmp_path / "cache").exists()


def test_the_index_is_written_first_without_a_second_pass(media, tmp_path, monkeypatch):
    """The joined file keeps room for its index at the start (-moov_size): moov before mdat in one pass; if
    the room were too small, ffmpeg fails the write and the join runs again with +faststart."""
    from kbvideo.render import finish

    src = media.clip("red.mp4", color="red", seconds=1.2)
    timeline = build([("a", [clip(src, 20)]), ("b", [clip(src, 20, source_in=5)])], transitions=[("crossfade", 4)])
    for room, runs in ((finish.MOOV_ROOM, 1), ((0, 16), 2)):
        monkeypatch.setattr(finish, "MOOV_ROOM", room)
        result = render(timeline, tmp_path, name=f"joined-{runs}.mp4", cache_dir=tmp_path / "cache")
        data = result.path.read_bytes()
        assert 0 < data.find(b"moov") < data.find(b"mdat"), room
        assert result.stages["join"]["count"] == runs and result.frames == 36
        info = streams(result.path)
        assert abs(info["vdur"] - 36 / 30) < 1e-3
