"""Issue 11: messages a non-programmer can act on, in Bahasa Indonesia and English.

Each numbered case of the issue is run through the CLI in both languages with the exact message.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import copy_into, write_storyboard as write
from kbvideo import i18n
from kbvideo.cli import main

PACKAGE = Path(i18n.__file__).resolve().parent
REPO = PACKAGE.parent


def run(*args: str, env: dict | None = None):
    result = CliRunner().invoke(main, list(args), env=env)
    assert "Traceback" not in result.output + result.stderr, result.stderr
    return result




HEAD = """\
kampung: {name: Kampung KB Uji, desa: Uji, kabupaten: Kabupaten Uji}
output: {size: 320x180}
scenes:
  - id: buka
    topic: opening
    shots: [{card: "{kampung.name}", duration: 9}]
"""


@pytest.fixture
def board(project, monkeypatch):
    monkeypatch.chdir(project)
    return project


def errors_of(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith(("error:", "kesalahan:"))]


# ---- case 4: a missing closing quote ------------------------------------------------------------
UNCLOSED = HEAD + """\
    captions:
      - "Kader memasak bersama
      - "Makanan dibagikan"
      - Keluarga sehat
  - id: tutup
    topic: closing
    shots: [{card: "Terima kasih", duration: 3}]
"""


@pytest.mark.parametrize("lang, expected", [
    ("en", ["error: storyboards/uji.yaml:8:9: a text opens a quote (\") here that is not closed on this line",
            "  hint: add the closing \" at the end of the text"]),
    ("id", ["kesalahan: storyboards/uji.yaml:8:9: teks di sini dibuka dengan tanda kutip (\") yang tidak ditutup di baris ini",
            "  saran: tambahkan \" penutup di akhir teks"]),
])
def test_unclosed_quote_points_at_the_opening_quote(board, lang, expected):
    write(board, UNCLOSED)
    result = run("--lang", lang, "validate", "storyboards/uji.yaml")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[1] == expected[0] and lines[-1] == expected[1]
    assert lines[2].strip() == '- "Kader memasak bersama' and lines[3] == "    " + " " * 8 + "^"


# ---- case 3: a colon inside an unquoted caption -------------------------------------------------
COLON = HEAD + """\
    captions:
      - Kader memasak bersama
      - Makanan dibagikan: keluarga berisiko stunting
"""


@pytest.mark.parametrize("lang, message, hint", [
    ("en", "error: storyboards/uji.yaml:9:9: scene 'buka': caption has a ':' followed by a space, so YAML reads it "
           "as a key and a value",
     '  hint: put the text in quotes: "Makanan dibagikan: keluarga berisiko stunting"'),
    ("id", "kesalahan: storyboards/uji.yaml:9:9: adegan 'buka': keterangan berisi ':' diikuti spasi, sehingga YAML "
           "membacanya sebagai kunci dan nilai",
     '  saran: beri tanda kutip pada teksnya: "Makanan dibagikan: keluarga berisiko stunting"'),
])
def test_colon_in_a_caption_is_located_at_that_caption(board, lang, message, hint):
    write(board, COLON)
    result = run("--lang", lang, "validate", "storyboards/uji.yaml")
    assert result.exit_code == 2
    assert errors_of(result) == [message]  # one problem, not "captions mix plain text and timed captions"
    assert result.stderr.splitlines()[-1] == hint


# ---- case 5: a quoted "1.30" meant as 1 min 30 s ------------------------------------------------
QUOTED_TIME = HEAD.replace('shots: [{card: "{kampung.name}", duration: 9}]',
                           'shots: [{card: "{kampung.name}", duration: "1.30"}]')


@pytest.mark.parametrize("lang, message, hint", [
    ("en", "error: storyboards/uji.yaml:6:48: scene 'buka': card.duration: \"1.30\" in quotes looks like minutes "
           "and seconds", "  hint: did you mean 1:30? (1.3 seconds is written 1.3)"),
    ("id", "kesalahan: storyboards/uji.yaml:6:48: adegan 'buka': card.duration: \"1.30\" bertanda kutip tampak "
           "seperti menit dan detik", "  saran: maksudnya 1:30? (1.3 detik ditulis 1.3)"),
])
def test_quoted_minutes_dot_seconds_is_refused_with_did_you_mean(board, lang, message, hint):
    write(board, QUOTED_TIME)
    result = run("--lang", lang, "validate", "storyboards/uji.yaml")
    assert result.exit_code == 2
    assert errors_of(result) == [message]
    assert result.stderr.splitlines()[-1] == hint


def test_other_quoted_times_keep_working_and_0_05_gets_0_05(board):
    write(board, HEAD.replace('duration: 9}', 'duration: "0.05"}'))
    result = run("validate", "storyboards/uji.yaml")
    assert "did you mean 0:05? (0.05 seconds is written 0.05)" in result.stderr
    write(board, HEAD.replace('duration: 9}', 'duration: "9.5"}'))
    result = run("validate", "storyboards/uji.yaml")
    assert result.exit_code == 1 and not errors_of(result)  # read as 9.5 s; only contest rules fail


# ---- case 7: one missing folder is one error; project-root paths get a did-you-mean ------------
def test_one_missing_folder_is_one_error_in_both_languages(board, media):
    text = HEAD + "".join(f"      - {{still: ../assets/desa-baru/foto{i}.jpg, duration: 2}}\n" for i in range(5))
    text = text.replace('shots: [{card: "{kampung.name}", duration: 9}]', "shots:")
    write(board, text)
    result = run("validate", "storyboards/uji.yaml")
    assert result.exit_code == 2
    assert errors_of(result) == [
        "error: storyboards/uji.yaml:7:17: scene 'buka': still: folder not found: assets/desa-baru "
        "(5 files are written in it, the first: ../assets/desa-baru/foto0.jpg)"]
    result = run("--lang", "id", "validate", "storyboards/uji.yaml")
    assert errors_of(result) == [
        "kesalahan: storyboards/uji.yaml:7:17: adegan 'buka': still: folder tidak ditemukan: assets/desa-baru "
        "(5 berkas ditulis di dalamnya, yang pertama: ../assets/desa-baru/foto0.jpg)"]


def test_path_written_from_the_project_root_gets_did_you_mean(board, media):
    copy_into(media.image("foto.png"), board / "assets" / "stills", "foto.png")
    write(board, HEAD.replace('{card: "{kampung.name}", duration: 9}', "{still: assets/stills/foto.png, duration: 9}"))
    result = run("validate", "storyboards/uji.yaml")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "  hint: did you mean ../assets/stills/foto.png? Paths are relative to the storyboard's folder, "
        "not the project's")
    result = run("--lang", "id", "validate", "storyboards/uji.yaml")
    assert result.stderr.splitlines()[-1] == (
        "  saran: maksudnya ../assets/stills/foto.png? Jalur dihitung dari folder storyboard, bukan dari folder proyek")


# ---- case 7: plain captions keep to the limits; a long one is reported once, with where to split -
LONG = HEAD + """\
    captions:
      - "Kader memasak menu bergizi dari bahan pangan lokal setiap minggu, lalu makanan dibagikan kepada keluarga"
"""


def test_plain_captions_are_capped_at_the_profile_limit(board):
    write(board, HEAD + '    captions: ["Kader memasak bersama"]\n')
    result = run("plan", "storyboards/uji.yaml", "--json")
    data = json.loads(result.stdout)
    [caption] = [t for t in data["texts"] if t["kind"] == "caption"]
    assert caption["duration"] == 7 * 30  # the scene is 9 s; the rules allow 7 s on screen
    assert not [f for f in data["findings"] if f["rule"] == "captions.max_duration"]


@pytest.mark.parametrize("lang, advice", [
    ("en", 'split it into two captions: "Kader memasak menu bergizi dari bahan pangan lokal setiap minggu," and '
           '"lalu makanan dibagikan kepada keluarga"'),
    ("id", 'pecah menjadi dua keterangan: "Kader memasak menu bergizi dari bahan pangan lokal setiap minggu," dan '
           '"lalu makanan dibagikan kepada keluarga"'),
])
def test_a_long_caption_is_reported_once_with_where_to_split(board, lang, advice):
    write(board, LONG)
    result = run("--lang", lang, "validate", "storyboards/uji.yaml", "--json")
    data = json.loads(result.stdout)
    about = [f for f in data["storyboards"][0]["findings"] if f.get("where", "").endswith("uji.yaml:8:9")]
    assert len(about) == 1, about
    finding = about[0]
    assert finding["rule"] in ("captions.lines", "text.fit")
    assert advice in finding["message"] + " " + finding.get("hint", "")


# ---- case 9: nothing refers to files users don't have -------------------------------------------
def test_no_message_profile_or_template_refers_to_files_users_do_not_have():
    shipped = [*PACKAGE.glob("rules/profiles/*.yaml"), *PACKAGE.glob("batch/templates/*.yaml"),
               *REPO.glob("storyboards/**/*.yaml"), *PACKAGE.glob("locale/*/LC_MESSAGES/*.po")]
    assert shipped
    for path in shipped:
        text = path.read_text(encoding="utf-8")
        found = re.findall(r"\b(?:DOMAIN|PITFALLS|STYLE|docs/[\w.-]+)\.md\b|docs/\w+\.md", text)
        assert not found, f"{path} refers to {found}"


# ---- case 10: the language is chosen by --lang, KBVIDEO_LANG or the locale ----------------------
def test_language_choice_order():
    choose = i18n.choose_language
    assert choose(None, {}) == "en"
    assert choose(None, {"LANG": "id_ID.UTF-8"}) == "id"
    assert choose(None, {"LANG": "id_ID.UTF-8", "LC_MESSAGES": "en_US.UTF-8"}) == "en"
    assert choose(None, {"LANG": "en_US.UTF-8", "LC_ALL": "id_ID"}) == "id"
    assert choose(None, {"LC_ALL": "C", "KBVIDEO_LANG": "id"}) == "id"
    assert choose("en", {"KBVIDEO_LANG": "id", "LANG": "id_ID"}) == "en"


def test_locale_and_env_reach_the_cli_and_json_keeps_rule_ids(board):
    write(board, HEAD.replace("duration: 9", "duration: 200"))
    by_locale = run("validate", "storyboards/uji.yaml", "--json", env={"LANG": "id_ID.UTF-8", "KBVIDEO_LANG": ""})
    by_env = run("validate", "storyboards/uji.yaml", "--json", env={"KBVIDEO_LANG": "id"})
    english = run("validate", "storyboards/uji.yaml", "--json", env={"KBVIDEO_LANG": "en"})
    assert by_locale.exit_code == by_env.exit_code == english.exit_code == 1
    found = {}
    for name, result in (("id", by_env), ("locale", by_locale), ("en", english)):
        [finding] = [f for f in json.loads(result.stdout)["storyboards"][0]["findings"] if f["rule"] == "duration.max"]
        assert set(finding) >= {"rule", "severity", "message", "measured", "limit"}
        found[name] = finding["message"]
    assert found["en"] == "3:20.0 — 20.0 s OVER the 3:00 limit"
    assert found["id"] == found["locale"] == "3:20.0 — 20.0 s MELEWATI batas 3:00"
    assert i18n.language() == "en"  # the command restored the language it found


def test_help_texts_follow_the_language():
    assert "Periksa storyboard: penulisan" in run("--lang", "id", "validate", "--help").output
    assert "Check storyboards: format" in run("--lang", "en", "validate", "--help").output
    assert "Bahasa pesan" in run("--help", env={"KBVIDEO_LANG": "id"}).output


# ---- the catalog: every message translated, placeholders kept, .mo up to date -------------------
def _extract() -> dict:
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with open(REPO / "babel.cfg", encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {"_": None, "N_": None, "ngettext": (1, 2)}
    found = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(REPO), method_map, options_map, keywords=keywords):
        found.setdefault(message, f"{filename}:{lineno}")
    return found


def _catalog():
    from babel.messages.pofile import read_po

    with open(PACKAGE / "locale" / "id" / "LC_MESSAGES" / "kbvideo.po", "rb") as handle:
        return read_po(handle, locale="id")


def _fields(text: str) -> list[str]:
    return sorted(set(re.findall(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)(?:[!:][^{}]*)?\}(?!\})", text)))


def test_every_message_has_an_indonesian_translation():
    messages = _extract()
    assert len(messages) > 400
    catalog = _catalog()
    missing = []
    for message, where in messages.items():
        entry = catalog.get(message)
        strings = entry.string if entry is not None else None
        if isinstance(strings, (tuple, list)):
            strings = strings[0]
        if entry is None or not strings or entry.fuzzy:
            missing.append(f"{where}: {message!r}")
    assert not missing, (f"{len(missing)} messages have no Indonesian translation; run pybabel extract/update "
                         "(see babel.cfg) and translate them in kbvideo/locale/id/LC_MESSAGES/kbvideo.po:\n"
                         + "\n".join(missing))


def test_translations_keep_every_placeholder():
    for entry in _catalog():
        if not entry.id:
            continue
        ids = entry.id if isinstance(entry.id, (tuple, list)) else (entry.id,)
        strings = entry.string if isinstance(entry.string, (tuple, list)) else (entry.string,)
        assert _fields(strings[0]) == _fields(ids[-1]), entry.id


def test_compiled_catalog_is_up_to_date_with_the_po():
    import gettext

    with open(PACKAGE / "locale" / "id" / "LC_MESSAGES" / "kbvideo.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in _catalog():
        if not entry.id or entry.fuzzy:
            continue
        if isinstance(entry.id, (tuple, list)):
            got, want = compiled.ngettext(entry.id[0], entry.id[1], 1), entry.string[0]
        else:
            got, want = compiled.gettext(entry.id), entry.string
        if got != want:
            stale.append(entry.id)
    assert not stale, f"kbvideo.mo is older than kbvideo.po; run: pybabel compile -d kbvideo/locale -D kbvideo ({stale[:3]})"


# ---- case 7: render prints each warning once, with file:line ------------------------------------
@pytest.mark.media
def test_render_prints_each_warning_once_with_its_place(board, media):
    (board / "rules.yaml").write_text("name: kecil\nduration: {max: 10, min: 1}\nvideo: {width: 320, height: 180}\n"
                                      "family_functions: {all_eight: null}\ntopics: {required: []}\n")
    write(board, """\
    kampung: {name: Kampung KB Uji, desa: Uji, kabupaten: Kabupaten Uji, category: kota}
    output: {size: 320x180, rules: ../rules.yaml}
    scenes:
      - id: buka
        topic: opening
        shots: [{card: "{kampung.name}", duration: 2}]
        captions:
          - {text: "Kader memasak menu bergizi dari bahan pangan lokal", at: 0.2, duration: 1.5}
    """)
    result = run("--lang", "id", "render", "storyboards/uji.yaml", "--draft", "-q")
    assert result.exit_code == 0, result.stderr
    err = result.stderr
    assert err.count("captions.reading_speed") == 1
    assert "peringatan: captions.reading_speed: keterangan dibaca" in err and "(storyboards/uji.yaml:8:9)" in err
    assert err.count("category adalah kota") == 1  # the storyboard's own warning, with file:line:col
    assert "peringatan: storyboards/uji.yaml:1:55: kampung: category adalah kota tetapi yang ditulis 'kabupaten'" in err


# ---- case 8: check and render --draft agree on drafts -------------------------------------------
@pytest.mark.media
def test_check_draft_judges_the_draft_size_as_render_draft_does(media):
    draft = media.clip("draft.mp4", size="854x480", seconds=1)
    plain = run("check", str(draft), "--quick", "--json")
    as_draft = run("check", str(draft), "--quick", "--json", "--draft")
    rules = lambda r: {f["rule"] for f in json.loads(r.stdout)["files"][0]["findings"] if f["severity"] == "error"}
    assert "video.resolution" in rules(plain)
    assert "video.resolution" not in rules(as_draft)


def test_clicks_own_words_follow_the_language_too():
    indonesian = run("--lang", "id", "render", "--help").output
    assert indonesian.startswith("Cara pakai: main render")  # CliRunner names the program "main" and "Tampilkan pesan ini lalu keluar." in indonesian
    english = run("--lang", "en", "render", "--help").output
    assert english.startswith("Usage: main render") and "Show this message and exit." in english
    missing = run("--lang", "id", "validate")
    assert missing.exit_code == 2 and "Kesalahan: Argumen belum ditulis 'STORYBOARDS...'." in missing.stderr
