"""The report in a real headless browser: Chromium from the system packages, driven by
Playwright (the ``test`` extra; Playwright's own browser download is not used).

The browser loads report.html from ``file://`` and the tests check what a person would see: the
headings, the figures per GP as given, the charts drawn with a size, and that the page asked
for nothing but itself. Without Chromium (or Playwright) the tests skip and say why, unless
``BENZOREDUX_REQUIRE_BROWSER=1`` (set by ``.ci/run`` once it installed Chromium): then they fail.
Set ``BENZOREDUX_CHROMIUM`` to use another Chromium binary.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benzoredux.report import write_report

from .conftest import AS_OF, GP_A_NAME, PER_GP
from .pages import ISO_DATE, NUMERIC_DATE, english_words

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _unavailable(reason: str) -> None:
    if os.environ.get("BENZOREDUX_REQUIRE_BROWSER") == "1":
        pytest.fail(f"BENZOREDUX_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(f"{reason}; the browser tests need Chromium (apt-get install chromium)")


def _chromium() -> str:
    configured = os.environ.get("BENZOREDUX_CHROMIUM")
    if configured:
        if not Path(configured).is_file():
            _unavailable(f"BENZOREDUX_CHROMIUM={configured} does not exist")
        return configured
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    _unavailable(f"no Chromium on PATH (looked for {', '.join(CANDIDATES)})")
    raise AssertionError("unreachable")  # pragma: no cover


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    executable = _chromium()
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=executable, headless=True)
        except Error as error:
            _unavailable(f"{executable} did not start: {error.message.splitlines()[0]}")
        yield launched
        launched.close()


def _open(browser: Any, path: Path) -> tuple[Any, list[str], list[str]]:
    """The page with report.html loaded, the URLs it requested and its console errors."""
    page = browser.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path.resolve().as_uri(), wait_until="load")
    return page, requests, errors


def test_the_browser_shows_the_headings_figures_and_charts(
    browser: Any, folder: Path, register_path: Path
) -> None:
    path = write_report(folder, register=register_path, as_of=AS_OF)
    page, requests, errors = _open(browser, path)
    try:
        headings = page.locator("h2").all_inner_texts()
        assert headings == [
            "Chronische gebruikers per huisarts",
            "Dosis: DDD per dag",
            "Van selectie tot stoppen",
            "Evaluatie",
            "Plan van aanpak",
        ]
        assert page.locator("h1").inner_text().startswith("Stoppen met benzodiazepinen")
        rows = page.locator("#per-gp-table tbody tr")
        shown = {
            rows.nth(i).locator("td").nth(0).inner_text(): int(
                rows.nth(i).locator("td").nth(1).inner_text()
            )
            for i in range(rows.count())
        }
        assert shown == {GP_A_NAME: PER_GP["gp-a"], "B. Bakker": PER_GP["gp-b"], "gp-c": 0}
        assert page.locator("#funnel-table").is_visible()
        images = page.locator("img")
        assert images.count() == 2
        for i in range(images.count()):
            image = images.nth(i)
            # Decoded (natural size) and laid out with a size on the page.
            natural = image.evaluate("img => [img.complete, img.naturalWidth, img.naturalHeight]")
            assert natural[0]
            assert natural[1] > 0
            assert natural[2] > 0
            box = image.bounding_box()
            assert box is not None
            assert box["width"] > 50
            assert box["height"] > 50
        # Only the file itself: no network request, no blocked load, no script error.
        assert [url for url in requests if not url.startswith("data:")] == [path.resolve().as_uri()]
        assert errors == []
    finally:
        page.close()


def test_the_browser_shows_what_is_not_yet_done(browser: Any, tmp_path: Path) -> None:
    path = write_report(tmp_path, as_of=AS_OF)
    page, requests, errors = _open(browser, path)
    try:
        notes = page.locator(".not-done").all_inner_texts()
        assert len(notes) == 4  # the selection, its doses, the plan, the evaluation
        assert all(note.startswith("Nog niet gedaan") for note in notes)
        assert page.locator("img").count() == 0
        assert requests == [path.resolve().as_uri()]
        assert errors == []
    finally:
        page.close()


def test_escaped_text_is_shown_as_text_not_run(
    browser: Any, folder: Path, register_path: Path
) -> None:
    title = "<img src=x onerror=\"document.title='hacked'\"> & <script>window.bad=1</script>"
    path = write_report(folder, register=register_path, title=title, as_of=AS_OF)
    page, requests, errors = _open(browser, path)
    try:
        assert page.locator("h1").inner_text() == title
        assert page.title() == title
        assert page.evaluate("typeof window.bad") == "undefined"
        assert page.locator("script").count() == 0
        assert [url for url in requests if not url.startswith("data:")] == [path.resolve().as_uri()]
        assert errors == []
    finally:
        page.close()


def test_a_missing_browser_skips_unless_it_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENZOREDUX_CHROMIUM", "/nonexistent/chromium")
    monkeypatch.delenv("BENZOREDUX_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="need Chromium"):
        _chromium()
    monkeypatch.setenv("BENZOREDUX_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="BENZOREDUX_REQUIRE_BROWSER=1 but"):
        _chromium()


def test_the_demo_report_in_the_browser_is_dutch_with_the_plan_folded(
    browser: Any, demo_folder: Path
) -> None:
    """Issue 17: what a reader sees of the demo's report has Dutch words and dates only; the
    plan shows its overdue tasks and keeps the full list folded until it is opened."""
    path = demo_folder / "report.html"
    page, requests, errors = _open(browser, path)
    try:
        shown = page.locator("body").inner_text()
        assert ISO_DATE.findall(shown) == []
        assert NUMERIC_DATE.findall(shown) == []
        assert english_words(shown) == []
        assert page.locator("h2").all_inner_texts()[-1] == "Plan van aanpak"
        if page.locator("#overdue-table").count():
            assert page.locator("#overdue-table").is_visible()
        else:
            assert "0 over tijd" in shown
        assert not page.locator("#plan-table").is_visible()
        page.locator("details > summary").click()
        assert page.locator("#plan-table").is_visible()
        assert [url for url in requests if not url.startswith("data:")] == [path.resolve().as_uri()]
        assert errors == []
    finally:
        page.close()
