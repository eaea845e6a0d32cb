"""Hostile and odd input (issue 8, input side): no traceback from any storyboard, NaN is not a number,
untrusted storyboards stay inside their project and cannot write to the terminal, messages stay short.

Every case runs the real CLI (CliRunner) or the real loader on a small generated project and checks
the exit code, the location and the words of the message, and that no traceback is printed.
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import copy_into
from kbvideo.cli import main
from kbvideo.errors import Problem, SpecError, excerpt, printable
from kbvideo.storyboard.fields import FieldReader
from kbvideo.storyboard.load import MAX_DEPTH, load_yaml_text

HEAD = """\
kampung: {name: Kampung KB Uji, kelurahan: Uji, kota: Kota Uji}
output: {size: 160x90, fps: 30, rules: ../rules.yaml}
"""
SCENES = """\
scenes:
  - id: buka
    topic: opening
    shots:
      - card: "{kampung.name}"
        duration: 1
      - still: ../assets/b.png
        duration: 1
"""
RULES = "name: kecil\nduration: {max: 10, min: 1}\nvideo: {width: 160, height: 90}\nfamily_functions: {all_eight: null}\n" \
        "topics: {required: []}\n"


def run(*args: str):
    result = CliRunner().invoke(main, list(args))
    output = result.output
    assert "Traceback" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


@pytest.fixture
def tiny(project, media, monkeypatch):
    """A project with one small PNG and a rules file for a 160x90 video; cwd is the project."""
    copy_into(media.image("b.png", size=(32, 18)), project / "assets", "b.png")
    (project / "rules.yaml").write_text(RULES, encoding="utf-8")
    monkeypatch.chdir(project)
    return project


def write(project: Path, text: str, name: str = "sb.yaml") -> str:
    path = project / "storyboards" / name
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return f"storyboards/{name}"


def test_the_tiny_project_itself_is_valid(tiny):
    result = run("validate", write(tiny, HEAD + SCENES))
    assert result.exit_code == 0, result.output


# ------------------------------------------------------------------------------ 1. no traceback
@pytest.mark.parametrize("text, line, words", [
    ("a: &a [*a]\n", 1, "used inside itself"),
    ("a: &a {b: *a}\n", 1, "used inside itself"),
    ("a: " + "[" * 5000 + "]" * 5000 + "\n", 1, f"nested more than {MAX_DEPTH} levels"),
    ("a: " + "{b: " * 3000 + "1" + "}" * 3000 + "\n", 1, f"nested more than {MAX_DEPTH} levels"),
    ("".join(" " * i + "-\n" for i in range(3000)), MAX_DEPTH + 1, f"nested more than {MAX_DEPTH} levels"),
    ("".join(" " * i + "a:\n" for i in range(3000)), MAX_DEPTH, f"nested more than {MAX_DEPTH} levels"),
    # aliases stack shallow trees into a deep one: each *x adds a level the composer never saw
    ("a0: &a0 [1]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 200)), None,
     f"nested more than {MAX_DEPTH} levels"),
])
def test_recursive_and_deeply_nested_yaml_is_a_located_error(tiny, text, line, words):
    result = run("validate", write(tiny, text))
    assert result.exit_code == 2
    assert words in result.output
    if line is not None:
        assert f"storyboards/sb.yaml:{line}:" in result.output
    assert max(len(row) for row in result.output.splitlines()) < 300


def test_symlink_loops_and_over_long_names_are_clean_messages(tiny):
    loop = tiny / "storyboards" / "loop.yaml"
    loop.symlink_to("loop.yaml")
    result = run("validate", "storyboards/loop.yaml")
    assert result.exit_code == 2 and "too many levels of symbolic links" in result.output

    long_name = "storyboards/" + "a" * 300 + ".yaml"
    result = run("validate", long_name)
    assert result.exit_code == 2 and "the name is too long" in result.output

    (tiny / "assets" / "loop.png").symlink_to("loop.png")
    body = SCENES.replace("../assets/b.png", "../assets/loop.png")
    result = run("validate", write(tiny, HEAD + body))
    assert result.exit_code == 2
    assert "sb.yaml:9:16:" in result.output and "too many levels of symbolic links" in result.output

    body = SCENES.replace("../assets/b.png", "../assets/" + "p" * 300 + ".png")
    result = run("validate", write(tiny, HEAD + body))
    assert result.exit_code == 2 and "sb.yaml:9:16:" in result.output
    message = next(line for line in result.output.splitlines() if line.startswith("error:"))
    assert "the name is too long" in message and "p" * 61 not in message  # the path is quoted as an excerpt

    (tiny / "storyboards" / "self.yaml").symlink_to("self.yaml")
    result = run("validate", write(tiny, "extends: self.yaml\n" + HEAD + SCENES))
    assert result.exit_code == 2 and "sb.yaml:1:10:" in result.output and "symbolic links" in result.output

    result = run("validate", "--rules", "r" * 300 + ".yaml", write(tiny, HEAD + SCENES))
    assert result.exit_code == 2 and "the name is too long" in result.output


def test_storyboard_that_is_not_a_regular_file(tiny):
    os.mkfifo(tiny / "storyboards" / "pipe.yaml")
    result = run("validate", "storyboards/pipe.yaml")  # would block for ever on open() or read()
    assert result.exit_code == 2 and "not a regular file" in result.output


def test_lone_surrogate_in_a_caption_is_refused_and_never_crashes_printing(tiny):
    body = SCENES + '    captions: ["\\udc80 Kader"]\n'
    result = run("validate", write(tiny, HEAD + body))
    assert result.exit_code == 2
    assert "sb.yaml:11:16:" in result.output and "lone surrogate U+DC80" in result.output
    assert "\\udc80 Kader" in result.output  # shown as an escape, never as the raw code point
    result = run("validate", "--json", "storyboards/sb.yaml")
    assert result.exit_code == 2 and "\\\\udc80" in result.output


# ------------------------------------------------------------------------------ 2. NaN is not a number
NAN_CASES = [
    ("music volume", "music: {file: ../assets/b.png, volume: nan}\n", "music.volume"),
    ("music volume .inf", "music: {file: ../assets/b.png, volume: .inf}\n", "music.volume"),
    ("music volume -inf", "music: {file: ../assets/b.png, volume: -.Inf}\n", "music.volume"),
    ("music volume overflow", "music: {file: ../assets/b.png, volume: 1e999}\n", "music.volume"),
    ("clip volume default", "defaults: {clip_volume: NaN}\n", "defaults.clip_volume"),
    ("chart value", None, "chart.data '2024'"),
    ("chart value in a list", None, "chart.data 'a'"),
    ("chart value from vars", None, "{vars.angka}"),
    ("card duration", None, "card.duration"),
]


@pytest.mark.parametrize("name, top, where", NAN_CASES, ids=[c[0] for c in NAN_CASES])
def test_nan_and_infinity_are_refused_with_a_location_and_hint(tiny, name, top, where):
    body = SCENES
    extra = top or ""
    if name == "chart value":
        body += '      - chart: {title: Angka, data: {"2023": 4, "2024": nan}}\n        duration: 1\n'
    elif name == "chart value in a list":
        body += '      - chart: {title: Angka, data: [{label: a, value: .NaN}]}\n        duration: 1\n'
    elif name == "chart value from vars":
        extra = 'vars: {angka: "nan"}\n'
        body += '      - chart: {title: Angka, data: {"2024": "{vars.angka}"}}\n        duration: 1\n'
    elif name == "card duration":
        body = body.replace("duration: 1", "duration: nan", 1)
    result = run("validate", write(tiny, HEAD + extra + body))
    assert result.exit_code == 2, result.output
    error = next(line for line in result.output.splitlines() if line.startswith("error:") and where in line)
    assert "storyboards/sb.yaml:" in error
    assert "finite number" in error or "is not a time" in error
    assert "NaN and infinity are not" in result.output  # the hint


@pytest.mark.parametrize("section", ["duration: {max: nan}", "captions: {max_cps: .inf}", "audio: {loudness: 5}",
                                     "video: {width: nan}", "audio: {loudness: {target: nan}}"])
def test_nan_in_a_rules_profile_is_refused(tiny, section):
    (tiny / "bad-rules.yaml").write_text(f"name: x\n{section}\n", encoding="utf-8")
    result = run("validate", "--rules", "bad-rules.yaml", write(tiny, HEAD + SCENES))
    assert result.exit_code == 2 and "bad-rules.yaml:2:" in result.output


# ------------------------------------------------------------------------------ 3. untrusted storyboards
SECRET = "db_password: hunter2-secret\nbroken: [\n"


@pytest.fixture
def secret(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("elsewhere") / "config.yaml"
    path.write_text(SECRET, encoding="utf-8")
    return path


def test_extends_may_not_leave_the_project(tiny, secret):
    relative = os.path.relpath(secret, tiny / "storyboards")
    for written in (str(secret), relative):
        result = run("validate", write(tiny, f"extends: {written}\n" + HEAD + SCENES))
        assert result.exit_code == 2
        assert "sb.yaml:1:10: extends:" in result.output and "is outside the project folder" in result.output
        assert "--allow-outside" in result.output and "hunter2" not in result.output
    (tiny / "storyboards" / "link.yaml").symlink_to(secret)
    result = run("validate", write(tiny, "extends: link.yaml\n" + HEAD + SCENES))
    assert result.exit_code == 2 and "leads outside the project through a symlink" in result.output
    assert "hunter2" not in result.output


def test_allowed_outside_template_is_read_but_its_lines_are_never_echoed(tiny, secret):
    result = run("validate", "--allow-outside", write(tiny, f"extends: {secret}\n" + HEAD + SCENES))
    assert result.exit_code == 2
    assert "config.yaml:3:1: YAML syntax" in result.output  # located in the outside file ...
    assert "hunter2" not in result.output and "db_password" not in result.output  # ... without quoting it


def test_rules_file_named_by_a_storyboard_stays_inside_the_project(tiny, secret):
    result = run("validate", write(tiny, HEAD.replace("../rules.yaml", str(secret)) + SCENES))
    assert result.exit_code == 2
    assert "sb.yaml:2:" in result.output and "output.rules" in result.output and "outside the project" in result.output
    assert "hunter2" not in result.output


def test_escape_sequences_are_refused_and_never_printed_raw(tiny):
    text = HEAD.replace("Kampung KB Uji", '"Kampung\\e[2J\\e]0;pwned\\a KB"') + SCENES
    result = run("validate", write(tiny, text))
    assert result.exit_code == 2
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "sb.yaml:1:17: kampung.name: the text holds the control character U+001B (ESC)" in result.output
    assert "Kampung\\x1b[2J" in result.output  # escaped visibly
    # in a key (unknown key message) and with --json
    text = HEAD.replace("kelurahan: Uji", '"kel\\e[2Jurahan": Uji') + SCENES
    result = run("validate", write(tiny, text))
    assert result.exit_code == 2 and "\x1b" not in result.output and "unknown key 'kel\\x1b[2Jurahan'" in result.output
    result = run("validate", "--json", "storyboards/sb.yaml")
    assert "\x1b" not in result.output


@pytest.mark.parametrize("char, name", [("\\x00", "U+0000 (NUL)"), ("\\x01", "U+0001"), ("\\t", "U+0009 (TAB)"),
                                        ("\\x9b", "U+009B"), ("\\x7f", "U+007F (DEL)")])
def test_control_characters_in_text_are_refused(tiny, char, name):
    body = SCENES + f'    captions: ["Kader{char}Posyandu"]\n'
    result = run("validate", write(tiny, HEAD + body))
    assert result.exit_code == 2
    assert f"sb.yaml:11:16: scene 'buka': caption: the text holds the control character {name}" in result.output


def test_nul_and_soh_are_never_turned_into_braces():
    reader = FieldReader("x.yaml", Path("/p/x.yaml"), Path("/p"))
    reader.placeholders = {"kampung.name": "Jenggot"}
    node = load_yaml_text('t: "x"\n', "x.yaml").get("t")
    assert reader.fill_placeholders(node, "\x00a\x01 {kampung.name}", "t") == "\x00a\x01 Jenggot"
    assert reader.fill_placeholders(node, "{{kampung.name}} = {kampung.name}", "t") == "{kampung.name} = Jenggot"
    assert reader.fill_placeholders(node, "{{{kampung.name}}}", "t") == "{Jenggot}"


def test_a_one_megabyte_caption_is_refused_by_length_and_quoted_short(tiny):
    body = SCENES + '    captions: ["' + "x" * 1_000_000 + '"]\n'
    result = run("validate", write(tiny, HEAD + body))
    assert result.exit_code == 2
    assert "caption is 1000000 characters long; text may hold at most 500" in result.output
    assert len(result.output) < 1500


def test_a_huge_key_gives_a_short_message(tiny):
    text = "kampung:\n  name: Kampung KB Uji\n  ? " + "k" * 100_000 + "\n  : Uji\n" + HEAD.splitlines()[1] + "\n"
    result = run("validate", write(tiny, text + SCENES))
    assert result.exit_code == 2 and "unknown key 'kkkk" in result.output
    assert len(result.output) < 1500
    result = run("validate", write(tiny, HEAD.replace("kelurahan: Uji", "k" * 100_000 + ": Uji") + SCENES))
    assert result.exit_code == 2 and len(result.output) < 1500


def test_problem_format_escapes_and_cuts():
    problem = Problem("p.yaml", 1, 300, "bad \x1b[2J value " + "v" * 1000, "hint\x07", "y" * 100 + "x" * 500 + "\x1b")
    text = problem.format()
    assert "\x1b" not in text and "\x07" not in text and "\\x1b[2J" in text
    assert max(len(line) for line in text.splitlines()) < 450
    shown, caret = text.splitlines()[1:3]
    assert shown[caret.index("^")] == "x"  # the caret still points at column 300
    assert excerpt("k" * 100) == "k" * 60 + "…"
    assert printable("a\u202eb\ud800") == "a\\u202eb\\ud800"


# ------------------------------------------------------------------------------ 4. encodings and names
@pytest.mark.parametrize("encoding, named", [("utf-16-be", "UTF-16 (big-endian)"), ("utf-16-le", "UTF-16 (little-endian)"),
                                             ("utf-16", "UTF-16"), ("utf-32-le", "UTF-32 (little-endian)")])
def test_utf16_storyboard_is_named_as_such_without_raw_nuls(tiny, encoding, named):
    path = tiny / "storyboards" / "wide.yaml"
    path.write_bytes((HEAD + SCENES + "# ·\n").encode(encoding))
    result = run("validate", "storyboards/wide.yaml")
    assert result.exit_code == 2
    assert f"wide.yaml:1:1: file is saved as {named}" in result.output and "save the file as UTF-8" in result.output
    assert "\x00" not in result.output


def test_reader_errors_are_placed_at_their_line_and_column(tiny):
    result = run("validate", write(tiny, HEAD + SCENES.replace("topic: opening", "topic: open\x07ing")))
    assert result.exit_code == 2
    assert "sb.yaml:5:16: invisible or special character U+0007" in result.output
    assert "topic: open\\x07ing" in result.output and "\x07" not in result.output


def test_decomposed_unicode_names_are_found(tiny):
    composed = unicodedata.normalize("NFC", "kadér.png")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    os.replace(tiny / "assets" / "b.png", tiny / "assets" / composed)
    write(tiny, HEAD + SCENES.replace("b.png", decomposed), name=unicodedata.normalize("NFC", "tés.yaml"))
    result = run("validate", "storyboards/" + unicodedata.normalize("NFD", "tés.yaml"))
    assert result.exit_code == 0, result.output


def test_check_csv_into_a_missing_folder_is_refused_before_scanning(tiny, media, monkeypatch):
    import kbvideo.commands.check as check_command

    video = copy_into(media.clip(seconds=1), tiny / "entries", "a.mp4")
    calls = []
    monkeypatch.setattr(check_command, "check_output", lambda *a, **k: calls.append(a))
    for target, words in ((tiny / "nope" / "r.csv", "does not exist"), (tiny / "rules.yaml" / "r.csv", "does not exist"),
                          (tiny / "entries", "is a folder"), (video, "is one of the files being checked")):
        result = run("check", "--quick", str(tiny / "entries"), "--csv", str(target))
        assert result.exit_code == 2 and words in result.output, result.output
    monkeypatch.setattr(check_command, "_writable", lambda *a: False)  # a read-only folder (root may write anywhere)
    result = run("check", "--quick", str(tiny / "entries"), "--csv", str(tiny / "r.csv"))
    assert result.exit_code == 2 and "cannot write there (permission denied)" in result.output
    assert calls == []  # nothing was scanned


def test_allow_outside_lets_a_template_outside_the_project_be_used(tiny, tmp_path_factory):
    outside = tmp_path_factory.mktemp("shared") / "base.yaml"
    outside.write_text("kampung: {name: Kampung KB Luar, kota: Kota Luar}\n", encoding="utf-8")
    board = write(tiny, f"extends: {outside}\n" + HEAD.splitlines()[1] + "\n" + SCENES)
    assert run("validate", board).exit_code == 2
    result = run("validate", "--allow-outside", board)
    assert result.exit_code == 0, result.output
    result = run("plan", "--allow-outside", board)
    assert result.exit_code == 0 and "Kampung KB Luar" in result.output


def test_a_refused_value_is_reported_once_not_again_where_it_is_used(tiny):
    text = HEAD.replace("Kampung KB Uji", '"Kampung\\e[2J KB"') + 'vars: {angka: "\\x07"}\n' + SCENES + \
        '      - chart: {title: "{vars.angka}", data: {"2024": 3}}\n        duration: 1\n'
    result = run("validate", write(tiny, text))
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 2, errors  # kampung.name and vars.angka; not the card title and chart title using them
    assert "kampung.name" in errors[0] and "vars.angka" in errors[1]


def test_root_that_is_a_symlink_loop_or_missing_is_a_usage_error(tiny):
    from kbvideo.errors import UsageError
    from kbvideo.pipeline import plan_storyboard

    (tiny / "loop").symlink_to("loop")
    board = write(tiny, HEAD + SCENES)
    for root in ("loop", "r" * 300, "missing"):
        result = run("validate", "--root", root, board)
        assert result.exit_code == 2 and "--root" in result.output
        with pytest.raises(UsageError):
            plan_storyboard(board, root=root)


def test_decomposed_unicode_template_name_is_found(tiny):
    composed = unicodedata.normalize("NFC", "dasár.yaml")
    write(tiny, "kampung: {name: Kampung KB Dasar, kota: Kota Dasar}\n", name=composed)
    board = write(tiny, f"extends: {unicodedata.normalize('NFD', composed)}\n" + HEAD.splitlines()[1] + "\n" + SCENES)
    result = run("plan", board)
    assert result.exit_code == 0 and "Kampung KB Dasar" in result.output, result.output


def test_a_roster_value_is_checked_where_it_lands(tmp_path):
    from kbvideo.storyboard.validate import parse_storyboard

    text = 'kampung: {name: Kampung KB Uji}\nscenes:\n  - id: a\n    topic: dashat\n    shots:\n' \
           '      - card: "Data {vars.x}"\n        duration: 1\n'
    node = load_yaml_text(text, "t.yaml")
    for value, words in (("a\x1b[2Jb", "U+001B (ESC)"), ("y" * 600, "characters long")):
        with pytest.raises(SpecError) as info:
            parse_storyboard(node, tmp_path / "t.yaml", tmp_path, variables={"x": value})
        (problem,) = info.value.problems
        assert (problem.line, problem.col) == (6, 15) and words in problem.message
        assert "\x1b" not in problem.format()
