"""kbvideo batch on tiny drafts with the real renderer: roster errors located at row and field,
resume, --force, --json, a crashing worker, the Dask path, and kbvideo init."""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from pathlib import Path

import av
import pytest
from click.testing import CliRunner

from kbvideo.batch.runner import BatchOptions, run_batch, villages_from_roster, villages_from_storyboards
from kbvideo.cli import main

pytestmark = pytest.mark.media

TEMPLATE = """\
schema_version: 1
kampung:
  name: "Kampung KB Contoh"
  kota: Kota Contoh
  category: kota
output: {size: 160x90, fps: 30}
vars:
  judul: "Profil"
scenes:
  - id: pembuka
    topic: opening
    shots:
      - card: {title: "{kampung.name}", subtitle: "{vars.judul}"}
        duration: 0.5
      - clip: "../../assets/{vars.asset_dir}/klip.mp4"
        duration: 0.5
    narration: "../../assets/{vars.asset_dir}/narasi.m4a"
  - id: dashat
    topic: dashat
    shots:
      - chart:
          title: Stunting
          data: {"2023": "{vars.stunting_2023}", "2024": "{vars.stunting_2024}"}
        duration: 0.5
"""

ROSTER = """\
name,kelurahan,kota,category,asset_dir,stunting_2023,stunting_2024
Kampung KB Satu,Satu,Kota A,kota,desa-a,40,30
Kampung KB Dua,Dua,Kota B,kota,desa-hilang,20,10
Kampung KB Tiga,Tiga,Kota C,desa,desa-b,12,5
Kampung KB Empat,Empat,Kota D,kota,desa-b,7,3
"""

RULES = """\
name: tiny-test
title: "tests: tiny drafts"
duration:
  max: 10
video:
  width: 160
  height: 90
  fps: ["30"]
topics:
  required: []
  recommended: []
family_functions:
  all_eight: null
"""


def make_roster_project(root: Path, media) -> dict[str, Path]:
    (root / "storyboards" / "templates").mkdir(parents=True, exist_ok=True)
    for folder in ("desa-a", "desa-b"):
        (root / "assets" / folder).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(media.clip(size="160x90", seconds=1.0), root / "assets" / folder / "klip.mp4")
        shutil.copyfile(media.tone(seconds=0.8), root / "assets" / folder / "narasi.m4a")
    template = root / "storyboards" / "templates" / "t.yaml"
    template.write_text(TEMPLATE, encoding="utf-8")
    roster = root / "storyboards" / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    rules = root / "tiny-rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    return {"template": template, "roster": roster, "rules": rules, "out": root / "out"}


def probe_output(path: Path) -> tuple[float, tuple[int, int], int]:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        return float(container.duration / av.time_base), (video.width, video.height), len(container.streams.audio)


def by_id(report: dict) -> dict[str, dict]:
    return {v["id"]: v for v in report["villages"]}


def test_roster_batch_errors_resume_force_and_json(project, media, monkeypatch):
    paths = make_roster_project(project, media)
    monkeypatch.chdir(project)
    runner = CliRunner()
    args = ["batch", "storyboards/templates/t.yaml", "--roster", "storyboards/roster.csv", "-o", "out", "--draft",
            "--rules", "tiny-rules.yaml", "--jobs", "2", "--json", "out/report.json", "-q"]
    first = runner.invoke(main, args)
    assert first.exit_code == 1, first.output + first.stderr
    # two precise errors: file:line:col and the field
    assert ("storyboards/roster.csv:3:32: Kampung KB Dua: field 'asset_dir' = 'desa-hilang': "
            "scene 'pembuka': clip: folder not found: assets/desa-hilang (2 files are written in it, the first: "
            "../../assets/desa-hilang/klip.mp4)") in first.stderr
    assert "storyboards/roster.csv:4:29: kampung.category: 'desa' is not one of kota, kabupaten" in first.stderr
    report = json.loads((project / "out" / "report.json").read_text())
    assert report["schema"] == "kbvideo.batch-report" and report["exit_code"] == 1
    assert report["summary"]["rendered"] == 2 and report["summary"]["invalid"] == 2
    villages = by_id(report)
    assert list(villages) == ["satu", "dua", "tiga", "empat"]
    assert {k: v["status"] for k, v in villages.items()} == {
        "satu": "rendered", "dua": "invalid", "tiga": "invalid", "empat": "rendered"}
    assert set(villages["satu"]) >= {"village", "status", "duration", "verdict", "output", "seconds", "log",
                                     "problems", "findings", "source"}
    problem = villages["dua"]["problems"][0]
    assert (problem["path"], problem["line"], problem["col"]) == ("storyboards/roster.csv", 3, 32)
    assert villages["tiga"]["problems"][0]["line"] == 4
    assert villages["satu"]["source"] == "storyboards/roster.csv:2"
    for slug in ("satu", "empat"):
        out = project / "out" / f"{slug}.draft.mp4"
        assert villages[slug]["output"] == str(out) and villages[slug]["verdict"] in ("pass", "warn")
        duration, size, audio_streams = probe_output(out)
        assert abs(duration - 1.5) < 0.1 and size == (160, 90) and audio_streams == 1
        assert (project / "out" / "logs" / f"{slug}.log").is_file()
        assert (project / "out" / f"{slug}.draft.mp4.key.json").is_file()
    assert not (project / "out" / "dua.draft.mp4").exists() and not (project / "out" / "tiga.draft.mp4").exists()
    assert not (project / "out" / ".kbvideo-batch").exists()  # temp folders removed
    assert "Kampung KB Satu" in first.output and "rendered" in first.output  # the table

    before = {s: os.stat(project / "out" / f"{s}.draft.mp4") for s in ("satu", "empat")}
    second = runner.invoke(main, args)
    assert second.exit_code == 1
    report = json.loads((project / "out" / "report.json").read_text())
    assert {k: v["status"] for k, v in by_id(report).items()} == {
        "satu": "up to date", "dua": "invalid", "tiga": "invalid", "empat": "up to date"}
    for slug, stat in before.items():
        now = os.stat(project / "out" / f"{slug}.draft.mp4")
        assert (now.st_ino, now.st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)
        assert by_id(report)[slug]["verdict"] in ("pass", "warn")

    # one figure changes: only that village renders again, and the report says why
    paths["roster"].write_text(ROSTER.replace("Kota D,kota,desa-b,7,3", "Kota D,kota,desa-b,8,3"), encoding="utf-8")
    third = runner.invoke(main, args)
    villages = by_id(json.loads((project / "out" / "report.json").read_text()))
    assert villages["satu"]["status"] == "up to date" and villages["empat"]["status"] == "rendered"
    assert "row" in villages["empat"]["reason"]
    assert os.stat(project / "out" / "satu.draft.mp4").st_mtime_ns == before["satu"].st_mtime_ns

    forced = runner.invoke(main, [*args, "--force"])
    villages = by_id(json.loads((project / "out" / "report.json").read_text()))
    assert villages["satu"]["status"] == "rendered" and villages["satu"]["reason"] == "--force"
    now = os.stat(project / "out" / "satu.draft.mp4")
    assert (now.st_ino, now.st_mtime_ns) != (before["satu"].st_ino, before["satu"].st_mtime_ns)
    assert forced.exit_code == 1 and third.exit_code == 1


def test_all_valid_villages_exit_zero_and_a_crashing_worker_fails_only_its_village(project, media, tmp_path):
    paths = make_roster_project(project, media)
    boards = []
    for slug, folder in (("alpha", "desa-a"), ("beta", "desa-b")):
        board = project / "storyboards" / f"{slug}.yaml"
        board.write_text(textwrap.dedent(f"""\
            extends: templates/t.yaml
            kampung: {{name: "Kampung KB {slug.title()}"}}
            vars: {{asset_dir: {folder}, stunting_2023: "4", stunting_2024: "2"}}
            """), encoding="utf-8")
        boards.append(board)
    options = BatchOptions(outdir=paths["out"], draft=True, jobs=2, rules=str(paths["rules"]))
    report = run_batch(villages_from_storyboards(boards), options)
    assert report.return_code == 0
    assert [r.status for r in report.results] == ["rendered", "rendered"]
    assert [r.village for r in report.results] == ["Kampung KB Alpha", "Kampung KB Beta"]

    crash = tmp_path / "crash_renderer.py"
    crash.write_text(textwrap.dedent("""\
        import os, signal
        from kbvideo.render import render_timeline

        def render(timeline, out_path, **kwargs):
            if "beta" in str(out_path):
                (out_path.parent / "beta.partial").write_text("half")  # what a dying render may leave
                os.kill(os.getpid(), signal.SIGKILL)
            return render_timeline(timeline, out_path, **kwargs)
        """), encoding="utf-8")
    options = BatchOptions(outdir=tmp_path / "crash-out", draft=True, jobs=2, rules=str(paths["rules"]),
                           renderer=f"{crash}:render")
    report = run_batch(villages_from_storyboards(boards), options)
    alpha, beta = report.results
    assert alpha.status == "rendered" and Path(alpha.output).is_file()
    assert beta.status == "failed" and "killed by signal 9" in beta.error
    assert not Path(beta.output).exists() and not Path(beta.output + ".key.json").exists()
    assert Path(beta.log).is_file()
    assert report.return_code == 1
    assert report.to_dict()["summary"]["failed"] == 1


def test_dask_local_cluster_gives_the_same_outcomes(project, media):
    import distributed  # the optional extra kbvideo[distributed]: part of the test environment
    paths = make_roster_project(project, media)
    villages = villages_from_roster(paths["template"], paths["roster"])
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        options = BatchOptions(outdir=paths["out"], draft=True, scheduler=cluster.scheduler_address,
                               rules=str(paths["rules"]))
        report = run_batch(villages, options)
        assert {r.slug: r.status for r in report.results} == {
            "satu": "rendered", "dua": "invalid", "tiga": "invalid", "empat": "rendered"}
        assert report.return_code == 1
        dua = report.results[1]
        assert (dua.problems[0].path, dua.problems[0].line) == (str(paths["roster"]), 3)
        assert "asset_dir" in dua.problems[0].message
        for result in (report.results[0], report.results[3]):
            duration, size, _ = probe_output(Path(result.output))
            assert abs(duration - 1.5) < 0.1 and size == (160, 90)
        stamp = os.stat(report.results[0].output).st_mtime_ns
        again = run_batch(villages_from_roster(paths["template"], paths["roster"]), options)
        assert {r.slug: r.status for r in again.results if r.status != "invalid"} == {
            "satu": "up to date", "empat": "up to date"}
        assert os.stat(report.results[0].output).st_mtime_ns == stamp


def test_init_scaffolds_a_village_that_validates_and_renders(project, media, monkeypatch):
    paths = make_roster_project(project, media)
    monkeypatch.chdir(project)
    template = project / "storyboards" / "templates" / "kecil.yaml"
    template.write_text(textwrap.dedent("""\
        schema_version: 1
        kampung: {name: "Kampung KB (nama)", kota: "Kota (nama)"}
        output: {size: 160x90, fps: 30}
        scenes:
          - id: pembuka
            topic: dashat
            shots:
              - still: "../../assets/{vars.asset_dir}/foto.jpg"
                duration: 0.5
              - clip: "../../assets/{vars.asset_dir}/klip.mp4"
                in: 0.5
                out: 1.5
            narration: "../../assets/{vars.asset_dir}/narasi.m4a"
        """), encoding="utf-8")
    result = CliRunner().invoke(main, ["init", "--kampung", "Kampung KB Mekar Sari", "--from", str(template)])
    assert result.exit_code == 0, result.output + result.stderr
    board = project / "storyboards" / "mekar-sari.yaml"
    assert board.is_file() and 'extends: "templates/kecil.yaml"' in board.read_text()
    assert sorted(p.name for p in (project / "assets" / "mekar-sari").iterdir()) == ["foto.jpg", "klip.mp4", "narasi.m4a"]
    again = CliRunner().invoke(main, ["init", "--kampung", "Kampung KB Mekar Sari", "--from", str(template)])
    assert again.exit_code == 2 and "already exists" in again.stderr
    report = run_batch(villages_from_storyboards([board]),
                       BatchOptions(outdir=paths["out"], draft=True, jobs=1, rules=str(paths["rules"])))
    assert report.results[0].status == "rendered", report.results[0].error or report.results[0].problems
    duration, size, audio_streams = probe_output(Path(report.results[0].output))
    assert abs(duration - 1.5) < 0.1 and size == (160, 90) and audio_streams == 1


def test_init_from_the_builtin_template_validates(tmp_path, monkeypatch):
    from kbvideo.pipeline import plan_storyboard

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["init", "--kampung", "Kampung KB Sejahtera", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output + result.stderr
    plan = plan_storyboard(tmp_path / "storyboards" / "sejahtera.yaml")
    assert plan.board.kampung.name == "Kampung KB Sejahtera"
    assert 150 <= plan.timeline.duration_seconds <= 180
    assert not [f for f in plan.findings if f.severity == "error"]
    repo = Path(__file__).resolve().parents[1]
    assert (repo / "storyboards" / "templates" / "standar.yaml").read_text() == \
        (tmp_path / "storyboards" / "templates" / "standar.yaml").read_text()


def test_roster_names_never_reach_the_terminal_raw(project, media, monkeypatch):
    paths = make_roster_project(project, media)
    paths["roster"].write_text(ROSTER.splitlines()[0] + "\nKampung\x1b[2J KB Jahat,Satu,Kota A,kota,desa-a,40,30\n",
                               encoding="utf-8")
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["batch", "storyboards/templates/t.yaml", "--roster", "storyboards/roster.csv",
                                       "-o", "out", "--draft", "--rules", "tiny-rules.yaml", "-q"])
    assert result.exit_code == 1
    assert "\x1b" not in result.output + result.stderr
    assert "Kampung\\x1b[2J KB Jahat" in result.stderr  # shown, escaped visibly
