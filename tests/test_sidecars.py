"""SRT and WebVTT sidecars: cue order, exact times from frames at 30000/1001, text as written."""

from __future__ import annotations

from fractions import Fraction

from kbvideo.render.sidecars import Cue, caption_cues, format_timestamp, frame_to_ms, write_srt, write_vtt
from kbvideo.timeline.model import SceneSpan, TextItem, Timeline

NTSC = Fraction(30000, 1001)


def timeline(texts, fps=NTSC) -> Timeline:
    return Timeline(fps=fps, width=1920, height=1080, duration=200_000, scenes=(SceneSpan("a", "opening", (), 0, 200_000),),
                    shots=(), texts=tuple(texts), audio=(), transitions=())


TEXTS = [
    TextItem("caption", "a", 90, 60, "Kedua: \"Dashat\" 50% <b> & 'x' \\ {y}"),
    TextItem("title", "a", 0, 90, "Not a caption"),
    TextItem("caption", "a", 30, 31, "Pertama\nbaris dua"),
    TextItem("lower_third", "a", 0, 60, "Bu Sari", "Kader"),
    TextItem("caption", "a", 107_892, 30, "Jam satu"),
]


def test_cues_are_captions_only_sorted_and_numbered():
    cues = caption_cues(timeline(TEXTS))
    assert cues == [Cue(1, 30, 61, "Pertama\nbaris dua"), Cue(2, 90, 150, TEXTS[0].text), Cue(3, 107_892, 107_922, "Jam satu")]


def test_times_exact_at_ntsc_rate():
    assert frame_to_ms(30, NTSC) == 1001  # 30 * 1001 / 30000 s
    assert frame_to_ms(31, Fraction(30)) == 1033
    assert frame_to_ms(61, NTSC) == 2035  # 2035.37 ms
    assert frame_to_ms(15, NTSC) == 501  # 500.5 ms: half up
    assert frame_to_ms(107_892, NTSC) == 3_599_996  # 3599996.4 ms
    assert format_timestamp(3_723_004, ",") == "01:02:03,004"


def test_srt_file(tmp_path):
    path = write_srt(timeline(TEXTS), tmp_path / "out.srt")
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw
    assert raw.decode("utf-8") == (
        "1\n00:00:01,001 --> 00:00:02,035\nPertama\nbaris dua\n\n"
        "2\n00:00:03,003 --> 00:00:05,005\nKedua: \"Dashat\" 50% <b> & 'x' \\ {y}\n\n"
        "3\n00:59:59,996 --> 01:00:00,997\nJam satu\n"
    )


def test_vtt_file(tmp_path):
    text = write_vtt(timeline(TEXTS), tmp_path / "out.vtt").read_text(encoding="utf-8")
    assert text == (
        "WEBVTT\n\n"
        "1\n00:00:01.001 --> 00:00:02.035\nPertama\nbaris dua\n\n"
        "2\n00:00:03.003 --> 00:00:05.005\nKedua: \"Dashat\" 50% &lt;b&gt; &amp; 'x' \\ {y}\n\n"
        "3\n00:59:59.996 --> 01:00:00.997\nJam satu\n"
    )


def test_unicode_blank_lines_and_no_captions(tmp_path):
    tl = timeline([TextItem("caption", "a", 0, 15, "Gotong royong — “bersama”\n\nlagi")], Fraction(30))
    assert write_srt(tl, tmp_path / "u.srt").read_text(encoding="utf-8") == (
        "1\n00:00:00,000 --> 00:00:00,500\nGotong royong — “bersama”\nlagi\n")
    empty = timeline([TextItem("title", "a", 0, 15, "Judul")])
    assert write_srt(empty, tmp_path / "e.srt").read_text() == ""
    assert write_vtt(empty, tmp_path / "e.vtt").read_text() == "WEBVTT\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.srt", "e.vtt", "u.srt"]  # no temp files left
