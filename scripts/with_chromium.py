#!/usr/bin/env python3
"""Run a command with a headless browser at hand: Debian's Chromium and its WebDriver.

Finds `chromium` and `chromedriver` (the Debian packages `chromium` and `chromium-driver`); when
either is missing it installs both with `apt-get install -y` (non-interactive; as root, or
through `sudo -n`), or fails with a clear message. Then runs the command with CHROMIUM_BINARY
and CHROMEDRIVER naming them, and SE_OFFLINE=true so that Selenium never tries to download a
driver or a browser of its own (the browser tests, browser_tests/, use exactly these two).

Usage: with_chromium.py -- COMMAND [ARGS...]      (make test-browser runs browser_tests/)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

PACKAGES = ("chromium", "chromium-driver")
BROWSER_NAMES = ("chromium", "chromium-browser")
BROWSER_PATHS = ("/usr/bin/chromium", "/usr/lib/chromium/chromium")
DRIVER_NAMES = ("chromedriver",)
DRIVER_PATHS = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")


def _find(names: tuple[str, ...], paths: tuple[str, ...]) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return next((path for path in paths if os.access(path, os.X_OK)), None)


def find_browser() -> str | None:
    return _find(BROWSER_NAMES, BROWSER_PATHS)


def find_driver() -> str | None:
    return _find(DRIVER_NAMES, DRIVER_PATHS)


def install_chromium() -> None:
    """apt-get install chromium chromium-driver, non-interactively; refresh the package lists
    once if the first attempt fails (a fresh machine may have none, or stale ones)."""
    if shutil.which("apt-get") is None:
        sys.exit(
            "chromium or chromedriver is missing and there is no apt-get: install Chromium and "
            "its WebDriver yourself (or set CHROMIUM_BINARY and CHROMEDRIVER)."
        )
    prefix: list[str] = []
    if os.geteuid() != 0:
        if shutil.which("sudo") is None:
            sys.exit("chromium is missing: run `sudo apt-get install chromium chromium-driver`.")
        prefix = ["sudo", "-n"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = [*prefix, "apt-get", "install", "-y", "-q", "--no-install-recommends", *PACKAGES]
    print("with_chromium: installing chromium and chromium-driver with apt-get", flush=True)
    if subprocess.call(install, env=env) != 0:  # noqa: S603
        subprocess.call([*prefix, "apt-get", "update", "-q"], env=env)  # noqa: S603
        if subprocess.call(install, env=env) != 0:  # noqa: S603
            sys.exit("apt-get could not install chromium and chromium-driver.")


def locate() -> tuple[str, str]:
    """(browser, driver): from CHROMIUM_BINARY and CHROMEDRIVER when set, else found on the
    machine, else installed."""
    browser = os.environ.get("CHROMIUM_BINARY") or find_browser()
    driver = os.environ.get("CHROMEDRIVER") or find_driver()
    if browser is None or driver is None:
        install_chromium()
        browser, driver = browser or find_browser(), driver or find_driver()
    if browser is None or driver is None:
        sys.exit("chromium and chromium-driver were installed but their binaries were not found.")
    return browser, driver


def main(argv: list[str]) -> int:
    if "--" in argv:
        argv = argv[argv.index("--") + 1 :]
    if not argv:
        sys.exit(__doc__)
    browser, driver = locate()
    print(f"with_chromium: {browser} with {driver}", flush=True)
    env = dict(os.environ, CHROMIUM_BINARY=browser, CHROMEDRIVER=driver, SE_OFFLINE="true")
    return subprocess.call(argv, env=env)  # noqa: S603


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
