"""The shipped sample storyboards: they validate clean, fit the contest, and resolve to golden timelines.

When a change to the format or the resolver changes a timeline on purpose, regenerate with:
    KBVIDEO_REGEN_GOLDEN=1 python -m pytest tests/test_samples.py
and review the diff of tests/golden/ like any other change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kbvideo.pipeline import plan_storyboard
from kbvideo.timeline.io import to_dict

REPO = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
SAMPLES = sorted((REPO / "storyboards").glob("*.yaml"))
REGEN = "KBVIDEO_REGEN_GOLDEN=1 python -m pytest tests/test_samples.py"


def portable(data, root: str, label: str = "<root>"):
    """Absolute paths inside the repo become <root>/..., so the golden file is the same on every machine."""
    if isinstance(data, dict):
        return {k: portable(v, root, label) for k, v in data.items()}
    if isinstance(data, list):
        return [portable(v, root, label) for v in data]
    if isinstance(data, str) and data.startswith(root):
        return label + data[len(root):]
    return data


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KBVIDEO_CACHE_DIR", str(tmp_path / "cache"))


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_sample_matches_golden_timeline(path):
    plan = plan_storyboard(path)
    # the scratch voice's WAV is in the (private) cache: <cache>/speech/voice/<hash of text, voice, rate>.wav
    data = portable(portable(to_dict(plan.timeline), os.environ["KBVIDEO_CACHE_DIR"], "<cache>"), str(REPO))
    golden = GOLDEN / f"{path.stem}.timeline.json"
    if os.environ.get("KBVIDEO_REGEN_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert golden.exists(), f"no golden timeline for {path.name}; run: {REGEN}"
    expected = json.loads(golden.read_text(encoding="utf-8"))
    assert data == expected, f"timeline of {path.name} changed; if on purpose, run: {REGEN}"


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_sample_validates_clean_and_fits_three_minutes(path):
    plan = plan_storyboard(path)
    assert plan.warnings == []
    assert [f for f in plan.findings if f.severity != "info"] == []
    seconds = plan.timeline.duration_seconds
    assert 150 <= seconds <= 180


def test_jenggot_is_the_kota_entry_with_every_programme():
    plan = plan_storyboard(REPO / "storyboards" / "jenggot.yaml")
    kampung = plan.board.kampung
    assert (kampung.name, kampung.kelurahan, kampung.kecamatan, kampung.kota, kampung.category) == (
        "Kampung KB Mandiri Utama", "Jenggot", "Pekalongan Selatan", "Kota Pekalongan", "kota")
    topics = [scene.topic for scene in plan.timeline.scenes]
    assert topics == ["opening", "dashat", "kebun_pikatu", "pemberdayaan", "closing"]
    assert plan.timeline.duration == 178 * 30


def test_second_sample_is_a_kabupaten_entry():
    plan = plan_storyboard(REPO / "storyboards" / "wonosobo.yaml")
    assert plan.board.kampung.category == "kabupaten" and plan.timeline.fps == 25


def test_sample_roster_fills_the_template_for_every_village():
    from kbvideo.batch.roster import load_roster, parse_row
    from kbvideo.pipeline import plan_board

    template = REPO / "storyboards" / "templates" / "standar.yaml"
    rows = load_roster(REPO / "storyboards" / "roster.csv")
    plans = [plan_board(parse_row(template, row, REPO)) for row in rows]
    assert [p.board.kampung.name for p in plans] == [
        "Kampung KB Mandiri Utama", "Kampung KB Contoh Satu", "Kampung KB Contoh Dua"]
    assert [p.board.kampung.category for p in plans] == ["kota", "kota", "kabupaten"]
    for plan in plans:
        assert [f for f in plan.findings if f.severity != "info"] == []
        assert plan.timeline.duration == 150 * 30
    dashat_chart = next(s.chart for s in plans[1].timeline.shots if s.chart and s.chart.style == "countdown")
    assert dashat_chart.values == (30.0, 22.0, 18.0, 12.0)  # the row's figures, not the template's
