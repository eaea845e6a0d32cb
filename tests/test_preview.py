"""`kbvideo preview`: the review page opened in a real headless Chromium, and the contact sheet's pixels.

Needs Chromium (Debian package `chromium`, /usr/bin/chromium) and the `playwright` Python package
(in the test extra; its own browser download is never used). `.ci/run` installs Chromium when missing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from conftest import copy_into
from kbvideo.cli import main

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 160, 0)


def chromium_path() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if path is None:
        pytest.fail("this test needs Chromium: install the Debian package with "
                    "`apt-get update && apt-get install -y chromium` (.ci/run does this)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.fail("this test needs the playwright Python package: pip install -e '.[test]' "
                    "(its browser download is not used; never run `playwright install`)")
    return path


@pytest.fixture
def browser(tmp_path):
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(str(tmp_path / "chromium-profile"), executable_path=executable,
                                                       args=CHROMIUM_ARGS, viewport={"width": 1100, "height": 900})
        try:
            yield context
        finally:
            context.close()


def board_with_colours(project, media) -> Path:
    copy_into(media.clip("red.mp4", color="red", seconds=1.2), project / "assets", "a.mp4")
    copy_into(media.clip("blue.mp4", color="blue", seconds=1.2, tone=660), project / "assets", "b.mp4")
    copy_into(media.image("green.png", size=(64, 36), color=GREEN + (255,)), project / "assets", "c.png")
    board = project / "storyboards" / "desa.yaml"
    board.write_text(
        "kampung: {name: Kampung KB Contoh, kelurahan: Jenggot, kota: Kota Pekalongan}\n"
        "output: {size: 160x90, fps: 30}\n"
        "scenes:\n"
        "  - id: a\n    topic: dashat\n    shots:\n      - clip: ../assets/a.mp4\n        duration: 1\n"
        "    captions:\n      - {text: \"Kader memasak menu bergizi dari bahan pangan lokal setiap hari\", at: 0.1, duration: 0.8}\n"
        "  - id: b\n    topic: pemberdayaan\n    shots:\n      - clip: ../assets/b.mp4\n        duration: 1\n"
        "      - still: ../assets/c.png\n        duration: 0.5\n        fit: cover\n",
        encoding="utf-8")
    return board


def close(pixel, colour, tol=70) -> bool:
    return all(abs(int(a) - int(b)) <= tol for a, b in zip(pixel, colour))


@pytest.mark.media
def test_review_page_in_chromium(media, project, browser, tmp_path):
    board = board_with_colours(project, media)
    runner = CliRunner()
    assert runner.invoke(main, ["render", str(board), "--draft", "--quiet"]).exit_code in (0, 1)
    result = runner.invoke(main, ["preview", str(board)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    page_path = project / "out" / "desa.review.html"
    text = page_path.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text  # nothing fetched: works offline
    assert 'src="desa.draft.mp4"' in text

    page = browser.new_page()
    page.goto(page_path.as_uri())
    page.wait_for_function("document.getElementById('draft').readyState >= 1", timeout=15000)
    assert abs(page.evaluate("document.getElementById('draft').duration") - 2.5) < 0.05
    # thumbnails: one per shot, decoded, showing the shot's own colour
    boxes = page.evaluate("""[...document.querySelectorAll('img.thumb')].map(i => {
        i.scrollIntoView(); const r = i.getBoundingClientRect();
        return {w: i.naturalWidth, x: r.x + r.width / 2 + window.scrollX, y: r.y + r.height / 2 + window.scrollY}; })""")
    assert len(boxes) == 3 and all(b["w"] > 0 for b in boxes)
    shot = tmp_path / "page.png"
    page.screenshot(path=str(shot), full_page=True)
    with Image.open(shot) as image:
        rgb = image.convert("RGB")
        pixels = [rgb.getpixel((round(b["x"]), round(b["y"]))) for b in boxes]
    assert close(pixels[0], RED) and close(pixels[1], BLUE) and close(pixels[2], GREEN), pixels
    # the caption's reading speed and its flags are on the page
    row = page.inner_text("#scene-a tr.caption")
    assert "77.5" in row and "FAST" in row and "SHORT" in row
    # a click on a chapter seeks the draft to the scene's start
    page.evaluate("""window.seeks = []; const v = document.getElementById('draft');
        v.addEventListener('seeking', () => window.seeks.push(v.currentTime));""")
    page.click(".chapters button[data-scene='b']")
    page.wait_for_function("window.seeks.length > 0", timeout=10000)
    assert abs(page.evaluate("window.seeks[0]") - 1.0) < 0.05  # the scene's start (the video plays on from there)
    # the chapter lights up when the video reports its new time (a 'timeupdate' event, so wait for it)
    page.wait_for_function("document.querySelector(\".chapters button[data-scene='b']\").classList.contains('now')",
                           timeout=10000)
    # after an edit the draft no longer matches the storyboard: the page says so
    board.write_text(board.read_text(encoding="utf-8").replace("setiap hari", "tiap hari"), encoding="utf-8")
    again = runner.invoke(main, ["preview", str(board)], catch_exceptions=False)
    assert "earlier version of the storyboard" in again.output
    assert "earlier version of the storyboard" in page_path.read_text(encoding="utf-8")


@pytest.mark.media
def test_contact_sheet_is_small_with_a_thumbnail_per_shot(media, project):
    board = board_with_colours(project, media)
    out = project / "review"
    result = CliRunner().invoke(main, ["preview", str(board), "-o", str(out), "--sheet"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "no draft video yet" in result.output
    assert "No draft yet" in (out / "desa.review.html").read_text(encoding="utf-8")
    sheet = out / "desa.sheet.jpg"
    assert 0 < sheet.stat().st_size < 1_000_000
    with Image.open(sheet) as image:
        rgb = image.convert("RGB")
        width, height = rgb.size
        # three tiles: red (scene a), then blue and green (scene b), each 240x135 in its band
        found = {name: 0 for name in ("red", "blue", "green")}
        for y in range(0, height, 4):
            for x in range(0, width, 4):
                p = rgb.getpixel((x, y))
                for name, colour in (("red", RED), ("blue", BLUE), ("green", GREEN)):
                    if close(p, colour, 40):
                        found[name] += 1
    tile = (240 // 4) * (135 // 4)
    assert all(count > 0.8 * tile for count in found.values()), found
