"""The browser tests' fixtures: headless Chromium driven by Selenium against the live server.

Run by `make test-browser` (scripts/with_chromium.py installs Debian's chromium and
chromium-driver when missing, and names them in CHROMIUM_BINARY and CHROMEDRIVER). `make test`
does not collect this directory (pyproject.toml's testpaths).

Every page a test opens is checked for errors in the browser's console (SEVERE entries of
chromium's log: a script error, a resource that failed to load) and saved as a screenshot in
SCREENSHOT_DIR (default .data/screenshots/).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[1]
WIDTH, HEIGHT = 1400, 1000
# Headless, as root in a container, and quiet: no first-run pages, no calls home.
CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    f"--window-size={WIDTH},{HEIGHT}",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-domain-reliability",
    "--disable-sync",
    "--disable-client-side-phishing-detection",
    "--disable-breakpad",
    "--disable-extensions",
    "--metrics-recording-only",
    "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
    "--lang=en-US",
)


def _binary(variable: str, fallbacks: tuple[str, ...]) -> str:
    found = os.environ.get(variable) or next(
        (path for name in fallbacks if (path := shutil.which(name))), None
    )
    if not found:
        pytest.fail(
            f"{variable} is not set and no {'/'.join(fallbacks)} is installed: run the browser "
            "tests with `make test-browser`, which installs Debian's chromium and chromium-driver."
        )
    return found


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run (cookies are cleared between tests)."""
    options = webdriver.ChromeOptions()
    options.binary_location = _binary("CHROMIUM_BINARY", ("chromium", "chromium-browser"))
    for argument in CHROMIUM_ARGS:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium fetch a driver
    service = Service(executable_path=_binary("CHROMEDRIVER", ("chromedriver",)))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    path = Path(os.environ.get("SCREENSHOT_DIR") or ROOT / ".data" / "screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


class Page:
    """The browser pointed at the live server, with the checks every page gets."""

    def __init__(self, driver, base_url: str, screenshot_dir: Path):
        self.driver = driver
        self.base_url = base_url
        self.screenshot_dir = screenshot_dir

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)
        self.wait_for("body")

    @property
    def path(self) -> str:
        return self.driver.current_url.removeprefix(self.base_url)

    def wait_for(self, css: str, timeout: float = 10):
        return WebDriverWait(self.driver, timeout).until(
            expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css))
        )

    def wait_until(self, condition, timeout: float = 10):
        return WebDriverWait(self.driver, timeout).until(lambda _: condition())

    def find(self, css: str):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def script(self, source: str, *args):
        return self.driver.execute_script(source, *args)

    def console_errors(self) -> list[str]:
        """SEVERE entries of the browser's console since the last call."""
        return [e["message"] for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]

    def screenshot(self, name: str) -> Path:
        """The whole page (the window grows to its height for the shot)."""
        height = self.script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(WIDTH, max(HEIGHT, min(int(height) + 140, 6000)))
        path = self.screenshot_dir / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(WIDTH, HEIGHT)
        return path

    def check(self, name: str) -> None:
        """No error in the console, and a screenshot."""
        self.screenshot(name)
        assert self.console_errors() == []

    def log_in(self, email: str, password: str) -> None:
        self.open("/admin/login/?next=/admin/")
        self.find("#id_username").send_keys(email)
        self.find("#id_password").send_keys(password)
        self.find("#login-form [type=submit]").click()
        self.wait_for("#user-tools")


@pytest.fixture
def page(browser, live_server, screenshot_dir):
    """The browser, logged out, its console emptied, its window at the usual size."""
    browser.delete_all_cookies()
    browser.set_window_size(WIDTH, HEIGHT)
    browser.get_log("browser")
    yield Page(browser, live_server.url, screenshot_dir)
    browser.get_log("browser")
