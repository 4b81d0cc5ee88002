"""The report and a feedback page in a real browser: Debian's headless Chromium, driven by Playwright.

Every image must load (naturalWidth > 0), nothing may be blocked or fail (the pages' own
Content-Security-Policy reports anything that is not inline as a console error), and a screenshot
of each page is kept for a person to look at.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from autograder.grader.feedback import feedback_path
from tests.test_report import grade_gradient_descent_batch

CHROMIUM = "/usr/bin/chromium"
# Run as root in CI, so no sandbox; the rest keeps Chromium from calling home (refused connections
# would otherwise flood the console with errors that have nothing to do with the page).
ARGUMENTS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync"]


def chromium_or_skip() -> str:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package: apt-get install chromium")
    return CHROMIUM if Path(CHROMIUM).exists() else str(shutil.which("chromium"))


@pytest.fixture(scope="module")
def browser():
    executable = chromium_or_skip()
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is missing: pip install playwright")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=ARGUMENTS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    return grade_gradient_descent_batch(tmp_path_factory.mktemp("browser"))


def open_page(browser, path: Path, screenshot: Path) -> dict:
    """Load ``path``; return what went wrong (console errors, page errors, failed requests) and the images."""
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    problems: list[str] = []
    page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}")
            if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
    page.goto(path.as_uri(), wait_until="load")
    images = page.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt])")
    page.screenshot(path=str(screenshot), full_page=True)
    page.close()
    return {"problems": problems, "images": images}


@pytest.mark.parametrize("which", ["report", "feedback"])
def test_the_page_renders_in_chromium(browser, batch, which, tmp_path, record_property):
    out, _ = batch
    path = out / "report.html" if which == "report" else feedback_path(out, "extra-iteration", ".html")
    screenshot = tmp_path / f"{which}.png"
    seen = open_page(browser, path, screenshot)
    record_property("screenshot", str(screenshot))
    print(f"screenshot of {path.name}: {screenshot}")
    assert seen["problems"] == []
    assert seen["images"], "the page should show plots"
    broken = [alt[:80] for complete, width, alt in seen["images"] if not (complete and width > 0)]
    assert not broken, f"images that did not load: {broken}"
    assert screenshot.stat().st_size > 10_000


def test_the_per_student_table_is_above_the_fold_on_a_laptop_screen(browser, batch, tmp_path):
    """On a 1280x800 screen the report opens on the table of every submission (score and likely mistake):
    its heading, header row and first row show without scrolling."""
    out, _ = batch
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto((out / "report.html").as_uri(), wait_until="load")
    heading = page.locator("h2:text-is('Submissions')")
    table = page.locator("h2:text-is('Submissions') + table")
    first_row = table.locator("tbody tr").first
    boxes = {"heading": heading.bounding_box(), "header": table.locator("thead").bounding_box(),
             "first row": first_row.bounding_box()}
    header_cells = table.locator("thead th").all_inner_texts()
    page.screenshot(path=str(tmp_path / "report-fold.png"))
    page.close()
    assert header_cells[:3] == ["submission", "score", "likely mistake"]
    for name, box in boxes.items():
        assert box is not None and box["y"] + box["height"] <= 800, f"the {name} is below the fold: {box}"
