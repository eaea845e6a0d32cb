"""Script first: narration written as text (scratch voice), captions from the narration, recorded
narration aligned to its text, and the findings that keep a scratch voice from being delivered."""

from __future__ import annotations

import array
import json
import wave
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import run_ffmpeg, write_storyboard as write
from kbvideo.cli import main
from kbvideo.errors import SpecError
from kbvideo.pipeline import plan_storyboard
from kbvideo.rules.contest import caption_cps, caption_lines
from kbvideo.rules.narration import scratch_findings
from kbvideo.rules.profile import load_profile
from kbvideo.speech.cues import CueLimits, make_cues
from kbvideo.speech.model import Word, tokens
from kbvideo.speech.voice import scratch_speech, synthesize

LIMITS = CueLimits()
FPS = Fraction(30)
SENTENCES = [
    "Kampung KB Mandiri Utama berada di Kelurahan Jenggot, Kota Pekalongan.",
    "Setiap minggu kader memasak menu bergizi dari bahan pangan lokal.",
    "Terima kasih.",
    "Makanan dibagikan kepada keluarga yang berisiko stunting, terutama balita dan ibu hamil.",
    "Kebun Pikatu menghasilkan sayur, buah, dan ikan lele.",
]
LONG_TEXT = (
    "Dashat, Dapur Sehat Atasi Stunting, adalah gerakan warga Kampung KB Jenggot yang dijalankan setiap minggu "
    "oleh kader bersama ibu-ibu PKK, dengan menu bergizi dari bahan pangan lokal seperti sayur, telur, dan ikan "
    "lele dari Kebun Pikatu. Makanan dibagikan kepada keluarga berisiko stunting. Tumbuh kembang anak dipantau "
    "setiap bulan di Posyandu, dan hasilnya dicatat di Rumah Data Kependudukan. Ya."
)


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KBVIDEO_CACHE_DIR", str(tmp_path / "cache"))




def levels(path: Path, window: float = 0.05) -> tuple[np.ndarray, float]:
    """RMS level (dBFS) of each `window` of the first audio stream, mixed to mono."""
    chunks = []
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=16000)
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
    values = np.concatenate(chunks).astype(np.float64)
    step = int(16000 * window)
    count = len(values) // step
    rms = np.sqrt((values[: count * step].reshape(count, step) ** 2).mean(axis=1) + 1e-12)
    return 20 * np.log10(rms), window


def assert_cues_within_limits(cues, fps=FPS, limits=LIMITS):
    """Every limit of the profile's caption section, on the cues as the timeline holds them."""
    from kbvideo.timeline.model import TextItem

    assert cues
    for cue in cues:
        item = TextItem("caption", "s", cue.start, cue.end - cue.start, cue.text)
        lines = cue.text.split("\n")
        assert len(lines) <= limits.lines and all(len(line) <= limits.chars_per_line for line in lines), cue
        assert caption_lines(cue.text, limits.chars_per_line) == lines  # explicit breaks: every player agrees
        assert caption_cps(item, fps) <= limits.max_cps, cue
        seconds = (cue.end - cue.start) / fps
        assert limits.min_duration <= seconds <= limits.max_duration, cue
    for before, after in zip(cues, cues[1:]):
        assert after.start - before.end >= limits.gap_frames


# ------------------------------------------------------------------------------ the voice


def test_scratch_voice_speaks_indonesian_without_system_espeak_and_is_cached(tmp_path):
    text = " ".join(SENTENCES[:2])
    speech = scratch_speech(text, 150, tmp_path / "voice")
    wav = Path(speech.source)
    with wave.open(str(wav)) as f:
        rate, frames = f.getframerate(), f.getnframes()
        samples = np.frombuffer(f.readframes(frames), dtype=np.int16).astype(np.float64)
    assert frames / rate == pytest.approx(speech.seconds)
    # a normal pace: 10..17 characters a second, so the draft's timing is realistic
    assert 10 <= len(text) / speech.spoken_seconds <= 17
    assert 20 * np.log10(np.sqrt((samples ** 2).mean()) / 32768) > -30  # speech, not silence
    # peaks tamed (espeak's own pulses stand ~16 dB over its speech RMS, measured the same way), so
    # loudness normalisation does not need to limit it hard
    frames = samples[: len(samples) // 220 * 220].reshape(-1, 220)
    rms = np.sqrt((frames ** 2).mean(axis=1))
    speech_rms = np.sqrt((rms[rms > rms.max() * 0.05] ** 2).mean())
    assert 20 * np.log10(np.abs(samples).max() / speech_rms) <= 12
    assert 20 * np.log10(np.abs(samples).max() / 32768) == pytest.approx(-6.5, abs=0.1)
    assert len(speech.words) == len(tokens(text))
    starts = [w.start for w in speech.words]
    assert starts == sorted(starts) and all(w.end >= w.start for w in speech.words)
    period = next(i for i, w in enumerate(speech.words) if text[w.start_char:w.end_char].endswith("."))
    assert speech.words[period + 1].start - speech.words[period].end > 0.2  # the sentence's pause is heard
    # rate: faster speech is shorter; the same text, voice and rate come from the cache
    assert scratch_speech(text, 220, tmp_path / "voice").seconds < speech.seconds * 0.8
    mtime = wav.stat().st_mtime_ns
    again = scratch_speech(text, 150, tmp_path / "voice")
    assert again == speech and wav.stat().st_mtime_ns == mtime


# ------------------------------------------------------------------------------ cues


def test_cues_from_the_scratch_voice_respect_every_limit(tmp_path):
    speech = scratch_speech(LONG_TEXT, 150, tmp_path / "voice")
    cues = make_cues(LONG_TEXT, speech.words, LIMITS, FPS)
    assert_cues_within_limits(cues)
    assert " ".join(" ".join(c.text.split()) for c in cues) == " ".join(LONG_TEXT.split())  # no word lost
    # a sentence always starts a cue; each cue starts when its first word is said
    by_char = {w.start_char: w for w in speech.words}
    for cue in cues:
        first = cue.text.split()[0]
        word = next(w for w in speech.words if LONG_TEXT[w.start_char:w.end_char] == first
                    and abs(w.start * 30 - cue.start) <= 2)
        assert word.start_char in by_char
    assert any(c.text.startswith("Makanan") for c in cues) and any(c.text.startswith("Tumbuh") for c in cues)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.integers(1, 14), st.sampled_from(["", "", "", ",", "."]),
                          st.floats(9, 15), st.floats(0.0, 0.6)), min_size=1, max_size=60))
def test_cues_respect_every_limit_at_any_normal_pace(spec):
    """Words of any length, with or without punctuation, said at 9..15 characters a second."""
    parts, words, t, position = [], [], 0.3, 0
    for length, mark, cps, pause in spec:
        word = "a" * length + mark
        spoken = (length + 1) / cps
        words.append(Word(position, position + len(word), t, t + spoken))
        parts.append(word)
        position += len(word) + 1
        t += spoken + (pause if mark else 0.02)
    text = " ".join(parts)
    cues = make_cues(text, tuple(words), LIMITS, FPS)
    if not cues:
        return
    limits = LIMITS
    for cue in cues:
        lines = cue.text.split("\n")
        assert len(lines) <= limits.lines and all(len(line) <= limits.chars_per_line for line in lines)
        assert (cue.end - cue.start) / FPS <= limits.max_duration
    for before, after in zip(cues, cues[1:]):
        assert after.start - before.end >= limits.gap_frames
    assert " ".join(" ".join(c.text.split()) for c in cues) == text


# ------------------------------------------------------------------------------ storyboards


SCRATCH_BOARD = """\
kampung: {name: Kampung KB Uji, kota: Kota Uji}
output: {size: 320x180, rules: ../rules.yaml}
scenes:
  - id: buka
    topic: opening
    shots: [{card: "Pembuka", duration: 1.5}]
  - id: dapur
    topic: dashat
    shots: [{still: ../assets/b.png, duration: 5.5}]
    narration: {text: "Kader memasak menu bergizi setiap minggu.", at: 1.2}
    captions: from_narration
"""


@pytest.fixture
def scratch_project(project, media):
    from conftest import copy_into

    copy_into(media.image("b.png"), project / "assets", "b.png")
    (project / "rules.yaml").write_text(
        "name: kecil\nduration: {max: 10, min: 1}\nvideo: {width: 320, height: 180}\n"
        "family_functions: {all_eight: null}\ntopics: {required: [dashat]}\nnarration: {scratch_final: error}\n")
    write(project, SCRATCH_BOARD)
    return project


@pytest.mark.media
def test_scratch_voice_is_heard_at_its_planned_place_in_the_render(scratch_project, tmp_path):
    from kbvideo.pipeline import cache_dir
    from kbvideo.render import render_timeline

    plan = plan_storyboard(scratch_project / "storyboards" / "uji.yaml")
    item = next(a for a in plan.timeline.audio if a.kind == "narration")
    speech = plan.speech["dapur"]
    assert item.voice == "espeak-ng id, 150 wpm" and item.source == speech.source
    assert item.start == 45 + 36  # scene 'dapur' starts at 1.5 s, narration at 1.2 s into it
    assert item.duration == round(speech.seconds * 30) or item.duration == int(speech.seconds * 30)
    out = tmp_path / "out" / "uji.mp4"
    result = render_timeline(plan.timeline, out, profile=plan.profile, cache_dir=cache_dir(plan.project_root) / "r",
                             media=plan.media)
    db, window = levels(out)
    loud = np.nonzero(db > db.max() - 30)[0]
    heard_from, heard_to = loud[0] * window, (loud[-1] + 1) * window
    planned_from = item.start / 30 + speech.speech_start
    planned_to = item.start / 30 + speech.speech_end
    assert heard_from == pytest.approx(planned_from, abs=0.1)
    assert heard_to == pytest.approx(planned_to, abs=0.15)
    assert db[: int(2.5 / window)].max() < db.max() - 40  # silence before the narration
    assert (db[loud[0]:loud[-1]] > db.max() - 30).mean() > 0.6  # speech throughout, not a blip
    # a final render still spoken by the scratch voice is a finding at the profile's severity (error here)
    found = [f for f in result.findings if f.rule == "narration.scratch"]
    assert [f.severity for f in found] == ["error"]  # once: from the timeline, not again from the file's tag
    # the file itself says so: `kbvideo check` on it (or on any copy) finds the scratch narration
    checked = CliRunner().invoke(main, ["check", str(out), "--quick", "--json",
                                        "--rules", str(scratch_project / "rules.yaml")])
    rules = [(f["rule"], f["severity"]) for f in json.loads(checked.stdout)["files"][0]["findings"]]
    assert ("narration.scratch", "error") in rules
    assert "dapur" in next(f["message"] for f in json.loads(checked.stdout)["files"][0]["findings"]
                           if f["rule"] == "narration.scratch")
    stripped = tmp_path / "stripped.mp4"  # the same pictures and sound without kbvideo's tag: nothing to find
    run_ffmpeg("-i", str(out), "-map", "0", "-c", "copy", "-map_metadata", "-1", str(stripped))
    checked = CliRunner().invoke(main, ["check", str(stripped), "--quick", "--json",
                                        "--rules", str(scratch_project / "rules.yaml")])
    assert "narration.scratch" not in [f["rule"] for f in json.loads(checked.stdout)["files"][0]["findings"]]
    report = json.loads(result.report_path.read_text())
    assert report["scratch_narration"] == [{"scene": "dapur", "voice": "espeak-ng id, 150 wpm",
                                            "start": item.start, "frames": item.duration}]
    # the captions came from the narration and were drawn where planned
    captions = [t for t in plan.timeline.texts if t.kind == "caption"]
    assert [c.text for c in captions] == ["Kader memasak menu bergizi setiap minggu."]
    assert abs(captions[0].start - (item.start + speech.words[0].start * 30)) <= 1
    srt = out.with_suffix(".srt").read_text()
    assert "Kader memasak menu bergizi setiap minggu." in srt


def test_scratch_finding_severity_draft_final_and_profile_default(scratch_project):
    plan = plan_storyboard(scratch_project / "storyboards" / "uji.yaml")
    assert [(f.rule, f.severity) for f in plan.findings if f.rule.startswith("narration")] == [("narration.scratch", "info")]
    assert [f.severity for f in scratch_findings(plan.timeline, plan.profile, final=False)] == ["info"]
    assert [f.severity for f in scratch_findings(plan.timeline, plan.profile, final=True)] == ["error"]
    plain = scratch_project / "plain.yaml"
    plain.write_text("name: plain\n")
    assert [f.severity for f in scratch_findings(plan.timeline, load_profile(str(plain)), final=True)] == ["warning"]
    contest = load_profile("lomba-kampung-kb-2025")
    assert [f.severity for f in scratch_findings(plan.timeline, contest, final=True)] == ["error"]


def test_plan_marks_scratch_narration(scratch_project):
    result = CliRunner().invoke(main, ["plan", str(scratch_project / "storyboards" / "uji.yaml")])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if line.startswith("2  dapur"))
    assert row.rstrip().endswith("SCRATCH")
    assert "SCRATCH: narration spoken by the scratch voice (espeak-ng id, 150 wpm)" in result.output
    data = json.loads(CliRunner().invoke(main, ["plan", str(scratch_project / "storyboards" / "uji.yaml"),
                                                "--json"]).output)
    assert [a["voice"] for a in data["audio"]] == ["espeak-ng id, 150 wpm"]


def recorded_fixture(folder: Path, pauses=(0.8, 0.5, 0.7, 0.6)) -> tuple[Path, list[float]]:
    """Sentences spoken one by one and joined with pauses (AAC, like a phone recording): known starts."""
    out, starts, rate = array.array("h"), [], 22050
    out.extend([0] * int(rate * 0.4))
    for i, sentence in enumerate(SENTENCES):
        samples, rate, _ = synthesize(sentence, 140)
        starts.append(len(out) / rate)
        out.extend(samples)
        if i < len(pauses):
            out.extend([0] * int(rate * pauses[i]))
    out.extend([0] * int(rate * 0.5))
    wav = folder / "rekaman.wav"
    with wave.open(str(wav), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(out.tobytes())
    m4a = folder / "rekaman.m4a"
    # a little room noise under it, as a phone would record
    run_ffmpeg("-i", str(wav), "-f", "lavfi", "-i", "anoisesrc=c=pink:a=0.003:r=22050", "-filter_complex",
               "[0:a][1:a]amix=inputs=2:duration=first:normalize=0", "-c:a", "aac", "-ar", "44100", "-f", "ipod",
               str(m4a))
    wav.unlink()
    return m4a, starts


@pytest.mark.media
def test_recorded_narration_captions_start_with_their_sentences(project, media):
    from conftest import copy_into

    copy_into(media.image("b.png"), project / "assets", "b.png")
    m4a, starts = recorded_fixture(project / "assets")
    text = " ".join(SENTENCES)
    write(project, f"""\
    kampung: {{name: Kampung KB Uji, kota: Kota Uji}}
    output: {{size: 320x180}}
    scenes:
      - id: buka
        topic: opening
        shots: [{{card: "Pembuka", duration: 2}}]
      - id: dapur
        topic: dashat
        shots: [{{still: ../assets/b.png, duration: 32}}]
        narration: {{file: ../assets/rekaman.m4a, at: 0.5, text: "{text}"}}
        captions: from_narration
    """)
    plan = plan_storyboard(project / "storyboards" / "uji.yaml")
    item = next(a for a in plan.timeline.audio if a.kind == "narration")
    assert item.voice is None  # a recording, not the scratch voice
    captions = [t for t in plan.timeline.texts if t.kind == "caption"]
    origin = item.start / 30
    for sentence, start in zip(SENTENCES, starts):
        cue = next(c for c in captions if sentence.startswith(c.text.replace("\n", " ").rstrip(",")[:20]))
        assert abs(cue.start / 30 - origin - start) <= 0.3, (sentence, cue.start / 30 - origin, start)
    from kbvideo.speech.cues import Cue

    assert_cues_within_limits([Cue(c.text, c.start, c.end) for c in captions])
    assert not [f for f in plan.findings if f.rule == "narration.text_mismatch"]

    # the same recording under a text that is not what it says: warned
    write(project, """\
    kampung: {name: Kampung KB Uji, kota: Kota Uji}
    output: {size: 320x180}
    scenes:
      - id: dapur
        topic: dashat
        shots: [{still: ../assets/b.png, duration: 32}]
        narration: {file: ../assets/rekaman.m4a, text: "Terima kasih."}
    """, "lain.yaml")
    plan = plan_storyboard(project / "storyboards" / "lain.yaml")
    mismatch = [f for f in plan.findings if f.rule == "narration.text_mismatch"]
    assert [f.severity for f in mismatch] == ["warning"] and mismatch[0].where.endswith("lain.yaml:7:23")


def test_text_too_long_for_its_scene_at_a_normal_pace_is_warned(project, media):
    from conftest import copy_into

    copy_into(media.image("b.png"), project / "assets", "b.png")
    text = " ".join(SENTENCES[:3])  # ~150 characters: about 11.5 s at a normal pace
    write(project, f"""\
    kampung: {{name: Kampung KB Uji, kota: Kota Uji}}
    scenes:
      - id: dapur
        topic: dashat
        shots: [{{still: ../assets/b.png, duration: 11}}]
        narration: {{text: "{text}", rate: 260}}
    """)
    plan = plan_storyboard(project / "storyboards" / "uji.yaml")  # spoken fast, the scratch voice fits
    fit = [f for f in plan.findings if f.rule == "narration.fit"]
    assert [f.severity for f in fit] == ["warning"] and "11.0 s left" in fit[0].message
    write(project, f"""\
    kampung: {{name: Kampung KB Uji, kota: Kota Uji}}
    scenes:
      - id: dapur
        topic: dashat
        shots: [{{still: ../assets/b.png, duration: 6}}]
        narration: {{text: "{text}"}}
    """)
    with pytest.raises(SpecError) as caught:  # the scratch voice itself is longer than the scene: an error
        plan_storyboard(project / "storyboards" / "uji.yaml")
    problem = caught.value.problems[0]
    assert (problem.line, "past the end of the scene" in problem.message) == (6, True)
    assert "narration.rate" in problem.hint


def test_narration_and_caption_fields_are_checked(project, media):
    from conftest import copy_into

    copy_into(media.image("b.png"), project / "assets", "b.png")
    write(project, """\
    kampung: {name: Kampung KB Uji, kota: Kota Uji}
    defaults: {narration_rate: 500}
    scenes:
      - id: a
        topic: dashat
        shots: [{still: ../assets/b.png, duration: 5}]
        narration: {at: 1}
      - id: b
        topic: dashat
        shots: [{still: ../assets/b.png, duration: 5}]
        captions: from_narration
      - id: c
        topic: dashat
        shots: [{still: ../assets/b.png, duration: 5}]
        narration: {text: "Halo.", rate: 20}
        captions: from_narations
    """)
    with pytest.raises(SpecError) as caught:
        plan_storyboard(project / "storyboards" / "uji.yaml")
    found = {(p.line, p.message.split(":")[-1].strip()[:40]) for p in caught.value.problems}
    lines = sorted(p.line for p in caught.value.problems)
    assert lines == [2, 7, 11, 15, 16], found
    messages = " | ".join(p.message for p in caught.value.problems)
    assert "needs 'file:'" in messages and "need the narration's text" in messages
    assert "between 80 and 450" in messages


def test_default_captions_from_narration_and_a_written_list_wins(project, media):
    from conftest import copy_into

    copy_into(media.image("b.png"), project / "assets", "b.png")
    write(project, """\
    kampung: {name: Kampung KB Uji, kota: Kota Uji}
    defaults: {captions: from_narration, narration_rate: 170}
    scenes:
      - id: a
        topic: dashat
        shots: [{still: ../assets/b.png, duration: 6}]
        narration: {text: "Warga menanam sayur di kebun."}
      - id: b
        topic: pemberdayaan
        shots: [{still: ../assets/b.png, duration: 6}]
        narration: {text: "Warga menabung bersama."}
        captions: ["Ditulis tangan"]
    """)
    plan = plan_storyboard(project / "storyboards" / "uji.yaml")
    captions = {t.scene: t.text for t in plan.timeline.texts if t.kind == "caption"}
    assert captions == {"a": "Warga menanam sayur di kebun.", "b": "Ditulis tangan"}
    assert {a.voice for a in plan.timeline.audio} == {"espeak-ng id, 170 wpm"}


@pytest.mark.parametrize("segments, expected", [
    ([(0.0, 3.0), (3.5, 6.5), (7.0, 10.0)], [0.0, 3.5, 7.0]),  # one pause per sentence
    ([(0.0, 3.0), (3.5, 5.0), (5.25, 6.5), (7.0, 10.0)], [0.0, 3.5, 7.0]),  # a short comma pause is not a sentence
    ([(0.0, 1.4), (1.6, 3.0), (3.5, 6.5), (7.0, 10.0)], [0.0, 3.5, 7.0]),  # nor one early in the first sentence
    ([(0.0, 9.0)], [0.0, 3.0, 6.0]),  # said without pauses: shared by letters
    ([(0.0, 3.0), (3.5, 9.5)], [0.0, 3.5, 6.5]),  # one pause missing: the rest by letters
])
def test_sentences_are_placed_at_the_pauses_of_a_recording(segments, expected):
    from kbvideo.speech.align import align_words

    text = "Satu dua tiga empat lima. Enam tujuh delapan sembilan. Sepuluh sebelas dua belas."
    words = align_words(text, segments, 10.0)
    firsts = [w.start for w in words if w.start_char in (0, text.index("Enam"), text.index("Sepuluh"))]
    assert firsts == pytest.approx(expected, abs=0.35)
    assert [w.start for w in words] == sorted(w.start for w in words)
    assert all(any(a <= w.start <= b for a, b in segments) for w in words)  # never inside a pause
