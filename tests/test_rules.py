"""Rules profiles as data, and the rules applied to a planned timeline (pure, hand-built timelines)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from kbvideo.errors import Loc, SpecError, UsageError
from kbvideo.rules.contest import caption_cps, caption_lines, check_timeline, length_verdict
from kbvideo.rules.findings import Finding, verdict
from kbvideo.rules.profile import builtin_profiles, load_profile
from kbvideo.timeline.model import SceneSpan, Shot, TextItem, Timeline
from kbvideo.vocab import FAMILY_FUNCTIONS


def timeline_of(frames: int, *, fps=Fraction(30), topics=("dashat", "pemberdayaan"), functions=FAMILY_FUNCTIONS,
                texts=(), size=(1920, 1080)) -> Timeline:
    scenes = []
    each = frames // len(topics)
    for index, topic in enumerate(topics):
        duration = each if index < len(topics) - 1 else frames - each * (len(topics) - 1)
        scenes.append(SceneSpan(f"s{index}", topic, tuple(functions) if index == 0 else (), index * each, duration))
    shots = tuple(Shot("card", s.id, s.start, s.duration, title="x") for s in scenes)
    return Timeline(fps, size[0], size[1], frames, tuple(scenes), shots, tuple(texts), (), ())


def rules_of(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings]


@pytest.fixture(scope="module")
def profile():
    return load_profile("lomba-kampung-kb-2025")


def test_builtin_profile_loads(profile):
    assert "lomba-kampung-kb-2025" in builtin_profiles()
    assert (profile.duration_max, profile.width, profile.height) == (180, 1920, 1080)
    assert profile.loudness.target == -14.0 and profile.loudness.true_peak_max == -1.0
    assert profile.fps == (Fraction(25), Fraction(30), Fraction(30000, 1001))
    assert profile.topics_required == ("dashat", "pemberdayaan")


def test_unknown_profile_is_usage_error():
    with pytest.raises(UsageError) as info:
        load_profile("lomba-2099")
    assert "lomba-kampung-kb-2025" in info.value.hint


def test_user_profile_with_mistakes_is_located(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\nduration:\n  max: 120\n  mx: 3\nvidoe: {}\n", encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_profile(str(path))
    assert [(p.line, p.message) for p in info.value.problems] == [
        (4, "unknown key 'duration.mx'"), (5, "unknown section 'vidoe'")]


def test_user_profile_overrides(tmp_path):
    path = tmp_path / "short.yaml"
    path.write_text("name: short\nduration: {max: 60, min: null}\ntopics: {required: [kebun_pikatu]}\n")
    mine = load_profile(str(path))
    assert (mine.name, mine.duration_max, mine.duration_min, mine.topics_required) == ("short", 60, None, ("kebun_pikatu",))


def test_exactly_three_minutes_passes_one_frame_over_fails(profile):
    assert "duration.max" not in rules_of(check_timeline(timeline_of(5400), profile))
    (over,) = [f for f in check_timeline(timeline_of(5401), profile) if f.rule == "duration.max"]
    assert over.severity == "error"
    assert over.message == "3:00.0 — 0.033 s (1 frame) OVER the 3:00 limit"


def test_length_verdicts():
    assert length_verdict(5220, Fraction(30), 180) == "2:54.0 of 3:00 — 6.0 s left"
    assert length_verdict(5526, Fraction(30), 180) == "3:04.2 — 4.2 s OVER the 3:00 limit"
    # 29.97: 5394 frames = 179.9798 s is under; 5395 frames = 180.013 s is over
    assert "left" in length_verdict(5394, Fraction(30000, 1001), 180)
    assert "OVER" in length_verdict(5395, Fraction(30000, 1001), 180)


def test_too_short_is_a_warning(profile):
    (short,) = [f for f in check_timeline(timeline_of(30 * 100), profile) if f.rule == "duration.min"]
    assert short.severity == "warning" and verdict([short]) == "warn"


def test_required_topics_and_family_functions(profile):
    timeline = timeline_of(5000, topics=("opening", "dashat"), functions=FAMILY_FUNCTIONS[:6])
    found = {f.rule: f for f in check_timeline(timeline, profile)}
    assert found["topics.required"].severity == "error" and found["topics.required"].values == {"topic": "pemberdayaan"}
    assert found["family_functions"].severity == "warning"
    assert found["family_functions"].values["missing"] == ["ekonomi", "pembinaan_lingkungan"]


def test_resolution_and_rate_against_profile(profile):
    found = rules_of(check_timeline(timeline_of(5000, fps=Fraction(24), size=(1280, 720)), profile))
    assert "video.resolution" in found and "video.fps" in found


def test_caption_reading_speed_and_limits(profile):
    fast = TextItem("caption", "s0", 0, 30, "Kader memasak menu bergizi dari bahan pangan", where=Loc("sb.yaml", 9, 9))
    short = TextItem("caption", "s0", 100, 20, "Ya")
    long = TextItem("caption", "s0", 200, 300, "Lama sekali di layar")
    many = TextItem("caption", "s0", 600, 180, "satu dua tiga empat lima enam tujuh delapan sembilan sepuluh "
                                               "sebelas dua belas tiga belas empat belas lima belas enam belas")
    touching = TextItem("caption", "s0", 781, 60, "nempel")
    found = check_timeline(timeline_of(5000, texts=(fast, short, long, many, touching)), profile)
    by_rule = {}
    for f in found:
        by_rule.setdefault(f.rule, []).append(f)
    assert by_rule["captions.reading_speed"][0].values["measured"] == pytest.approx(44.0, abs=0.1)
    assert by_rule["captions.reading_speed"][0].where == "sb.yaml:9:9"
    assert by_rule["captions.min_duration"][0].values["measured"] == pytest.approx(0.667, abs=0.001)
    assert by_rule["captions.max_duration"][0].values["measured"] == 10.0
    assert by_rule["captions.lines"][0].severity == "error"
    assert by_rule["captions.lines"][0].values["hint"].startswith("split it into two captions: ")
    assert by_rule["captions.gap"][0].values["measured"] == 1


def test_caption_helpers():
    item = TextItem("caption", "s", 0, 60, "dua\nbaris")
    assert caption_cps(item, Fraction(30)) == pytest.approx(4.5)
    assert caption_lines("satu dua tiga empat", 14) == ["satu dua", "tiga empat"]  # balanced, not greedy


def test_text_the_renderer_cannot_draw_is_a_finding(profile):
    glyph = TextItem("caption", "s0", 0, 90, "Kampung 中", where=Loc("sb.yaml", 9, 9))
    long_title = TextItem("title", "s0", 100, 90, "Judul " * 60, where=Loc("sb.yaml", 12, 5))
    found = {f.rule: f for f in check_timeline(timeline_of(5000, texts=(glyph, long_title)), profile)}
    assert found["text.glyphs"].where == "sb.yaml:9:9" and "U+4E2D" in found["text.glyphs"].message
    assert found["text.fit"].where == "sb.yaml:12:5"
