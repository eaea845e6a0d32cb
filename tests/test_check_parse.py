"""The analysis pass's parsers, on ffmpeg 9 stderr pasted from real runs (no media needed)."""

from __future__ import annotations

import math
from fractions import Fraction

from kbvideo.check.analyze import Analysis, AnalysisSettings, Interval, parse_log, parse_stats, settings_for
from kbvideo.rules.profile import load_profile

# black 0–1 s, then a freeze that is still running at EOF, a closed silence, a truncated decode.
PASTED = """\
Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'a.mp4':
  Duration: 00:00:04.00, start: 0.000000, bitrate: 104 kb/s
  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), 160x90, 30 fps
Stream mapping:
  Stream #0:0 (h264) -> scale:default
  freezedetect:default -> Stream #0:0 (wrapped_avframe)
[in#0/mov,mp4,m4a,3gp,3g2,mj2 @ 0x55cc55603300] Packet corrupt (stream = 0, dts = 28672).
[h264 @ 0x55cc556d3900] Invalid NAL unit size (964 > 676).
[Parsed_freezedetect_3 @ 0x7feb9c010d40] lavfi.freezedetect.freeze_start: 0
[Parsed_blackdetect_2 @ 0x7feb9c010880] black_start:0 black_end:1 black_duration:1
[Parsed_freezedetect_3 @ 0x7feb9c010d40] lavfi.freezedetect.freeze_duration: 1
[Parsed_freezedetect_3 @ 0x7feb9c010d40] lavfi.freezedetect.freeze_end: 1
[Parsed_silencedetect_5 @ 0x7f4b500130c0] silence_start: 2
[Parsed_freezedetect_3 @ 0x7f4b50012700] lavfi.freezedetect.freeze_start: 2.5
[Parsed_silencedetect_5 @ 0x7f4b500130c0] silence_end: 3.5 | silence_duration: 1.5
[Parsed_ebur128_4 @ 0x7f91f40128c0] Summary:

  Integrated loudness:
    I:         -21.8 LUFS
    Threshold: -31.8 LUFS

  Loudness range:
    LRA:         1.2 LU
    Threshold: -41.8 LUFS
    LRA low:   -21.8 LUFS
    LRA high:  -21.8 LUFS

  True peak:
    Peak:      -20.8 dBFS
[Parsed_blackdetect_2 @ 0x7f4b50012280] black_start:3.2 black_end:3.466667 black_duration:0.266667
[out#0/null @ 0x55bd4a7f0680] video:50KiB audio:750KiB subtitle:0KiB other streams:0KiB global headers:0KiB
frame=  120 fps=0.0 q=-0.0 Lsize=N/A time=00:00:04.00 bitrate=N/A speed=92.8x elapsed=0:00:00.04
"""

# digital silence: the summary says -70 LUFS and a -inf peak, and silencedetect's EOF line comes after it.
PASTED_SILENT = """\
[Parsed_silencedetect_1 @ 0x7f1274002480] silence_start: 0
[Parsed_ebur128_0 @ 0x7f1274001fc0] Summary:

  Integrated loudness:
    I:         -70.0 LUFS
    Threshold:   0.0 LUFS

  Loudness range:
    LRA:         0.0 LU
    Threshold:   0.0 LUFS
    LRA low:     0.0 LUFS
    LRA high:    0.0 LUFS

  True peak:
    Peak:       -inf dBFS
[Parsed_silencedetect_1 @ 0x7f1274002480] silence_end: 2 | silence_duration: 2
[out#0/null @ 0x55cdd8e3be40] video:0KiB audio:375KiB subtitle:0KiB other streams:0KiB global headers:0KiB
"""


def test_parse_log_intervals_and_summary():
    log = parse_log(PASTED)
    assert log.black == [Interval(0.0, 1.0), Interval(3.2, 3.466667)]
    assert log.freeze == [Interval(0.0, 1.0), Interval(2.5, None)]  # the second is open at EOF
    assert log.silence == [Interval(2.0, 3.5)]
    assert log.loudness_lufs == -21.8
    assert log.loudness_range_lu == 1.2
    assert log.true_peak_dbtp == -20.8


def test_parse_log_collects_decoder_complaints_only():
    log = parse_log(PASTED)
    assert len(log.errors) == 2
    assert "Packet corrupt" in log.errors[0]
    assert "Invalid NAL unit size" in log.errors[1]
    assert not any("Parsed_" in line for line in log.errors)


def test_parse_log_silent_file_minus_inf_peak_and_line_after_summary():
    log = parse_log(PASTED_SILENT)
    assert log.loudness_lufs == -70.0
    assert log.true_peak_dbtp == -math.inf
    assert log.silence == [Interval(0.0, 2.0)]  # the line after the summary is not swallowed by it


def test_parse_log_open_silence_and_empty_text():
    log = parse_log("[Parsed_silencedetect_5 @ 0x1] silence_start: 4.25\n")
    assert log.silence == [Interval(4.25, None)]
    assert Interval(4.25, None).closed(6.0) == Interval(4.25, 6.0)
    assert Interval(1.0, 2.0).closed(6.0) == Interval(1.0, 2.0)
    empty = parse_log("")
    assert (empty.black, empty.freeze, empty.silence, empty.loudness_lufs) == ([], [], [], None)


def test_parse_log_crlf_and_interleaved_noise():
    text = "[Parsed_blackdetect_2 @ 0x1] black_start:0 black_end:2.5 black_duration:2.5\r\nsome noise\r\n"
    assert parse_log(text).black == [Interval(0.0, 2.5)]


def test_parse_stats_exact_timestamps():
    # '{n} {pts} {tb}' lines as -stats_enc_pre writes them; here a VFR stretch (30 fps then 15 fps)
    text = "0 0 1/15360\n1 512 1/15360\n2 1024 1/15360\n3 2048 1/15360\n4 3072 1/15360\n"
    stats = parse_stats(text)
    assert stats.frames == 5
    assert stats.first == 0
    assert stats.last == Fraction(3072, 15360)
    assert stats.interval_min == Fraction(512, 15360)
    assert stats.interval_max == Fraction(1024, 15360)
    assert stats.interval_last == Fraction(1024, 15360)


def test_parse_stats_audio_samples_and_garbage():
    text = "38 182400 1/48000 4800\n39 187200 1/48000 4800\nN/A\n40 N/A 1/48000 10\n"
    stats = parse_stats(text)
    assert stats.frames == 2
    assert stats.last == Fraction(187200, 48000)
    assert stats.last_samples == 4800
    assert parse_stats("").frames == 0 and parse_stats("").last is None


def test_analysis_vfr_property_and_dict():
    assert Analysis(True, False, frame_interval_min=1 / 30, frame_interval_max=1 / 30).vfr is False
    assert Analysis(True, False, frame_interval_min=1 / 30, frame_interval_max=1 / 15).vfr is True
    assert Analysis(False, True).vfr is None
    data = Analysis(True, True, black=(Interval(0.0, 1.0),)).to_dict()
    assert data["black"] == [{"start": 0.0, "end": 1.0}]


def test_settings_follow_the_profile_smallest_limits():
    default = settings_for(load_profile())
    assert default == AnalysisSettings(black_min=0.5, silence_min=0.5, freeze_min=2.0)
    # a profile that allows only 0.2 s of black must detect stretches that short
    from dataclasses import replace

    strict = replace(load_profile(), max_black_start=0.2, max_silence_end=0.3, max_freeze=1.0)
    settings = settings_for(strict)
    assert (settings.black_min, settings.silence_min, settings.freeze_min) == (0.2, 0.3, 1.0)
