"""Browser tests: headless Chromium (Debian's /usr/bin/chromium) driven by Playwright's Python
package, against the mock started as a real server. No browser is downloaded.

They carry the `browser` marker and are deselected unless `--run-browser` is given (an option of
tests/conftest.py), since they need Chromium and Playwright (`pip install ".[browser]"`,
`apt-get install chromium`): `python -m pytest tests/browser --run-browser`, which
`ci/pipeline.sh browser` runs. Screenshots go to $REPORTS/screenshots (default reports/screenshots).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "mock"))  # mockhttp, mockworld: the mock's test helpers

from mockhttp import RunningMock, start_mock  # noqa: E402
from mockworld import SMALL_WORLD, TODAY  # noqa: E402
from opt_in import opt_in  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

pytest_configure, pytest_collection_modifyitems, pytest_report_collectionfinish = opt_in(
    "browser", "--run-browser", "drives headless Chromium", "they need Chromium and Playwright",
    ".venv/bin/python -m pytest tests/browser --run-browser",
)


@pytest.fixture(scope="session")
def screenshots() -> Path:
    folder = Path(os.environ.get("REPORTS", REPO / "reports")) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox does not start.
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.console_lines = console  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="session")
def mock() -> Iterator[RunningMock]:
    """The mock serving the small world, `--today 2026-06-15`, with its default CORS."""
    with start_mock(today=TODAY.isoformat(), seed=SMALL_WORLD) as started:
        yield started
