"""Helpers of the web tests: a `matrixcalc serve` subprocess on a free port, JSON requests
to it, and a headless Chromium driven by Selenium (skipped, saying how to install it,
where there is none)."""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# This machine's network is closed: without these flags Chromium waits on refused
# connections (updates, sync, field trials) and the tests hang.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--window-size=1280,1400")
INSTALL = "as root: `make browser` (apt-get install chromium chromium-driver)"
TIMEOUT = 4  # the server's time limit in the tests: the hostile input meets it quickly
# runs for over a minute (4 matrix powers of 1,000 terms each): tr(X^300), used before,
# is one term now (issue 14), answered in milliseconds
RUNAWAY = "x^T X^1000 x + y^T X^1000 y + z^T X^1000 z + w^T X^1000 w"


@contextmanager
def running_server(*options: str):
    """`matrixcalc serve --port 0 ...` in a subprocess; yields its base URL."""
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    log = tempfile.TemporaryFile()  # stderr, read when the server fails to start
    process = subprocess.Popen(
        [sys.executable, "-m", "matrixcalc", "serve", "--port", "0", "--workers", "2",
         "--timeout", str(TIMEOUT), *options],
        stdout=subprocess.PIPE, stderr=log, env=env)
    try:
        yield _first_line(process, log).split()[2]
    finally:
        process.send_signal(signal.SIGINT)  # as Ctrl-C: the workers are stopped too
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _first_line(process: subprocess.Popen, log) -> str:
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    line = process.stdout.readline().decode() if selector.select(timeout=60) else ""
    if not line.startswith("serving on http://"):
        process.kill()
        process.wait()
        log.seek(0)
        raise AssertionError(f"matrixcalc serve did not start: {line}{log.read().decode()}")
    return line


def wait_for_idle_workers(url: str, seconds: float = 90) -> None:
    """Until every worker is idle: a test of the time limit needs one free beside it
    (a worker killed by an earlier such test takes a few seconds to be replaced)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status, health = get(url, "/api/health")
        if status == 200 and health["idle"] == health["workers"]:
            return
        time.sleep(0.2)
    raise AssertionError(f"the workers are not all idle after {seconds} s: {health}")


def post(url: str, path: str, body, headers: dict | None = None) -> tuple[int, dict]:
    """POST JSON; (status, answer) also for 4xx/5xx answers."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        url.rstrip("/") + path, data=data, method="POST",
        headers={"Content-Type": "application/json", **(headers or {})})
    return _open(request)


def get(url: str, path: str, headers: dict | None = None) -> tuple[int, dict | str]:
    return _open(urllib.request.Request(url.rstrip("/") + path, headers=headers or {}))


def _open(request) -> tuple[int, dict | str]:
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, _decoded(response.read(), response.headers)
    except urllib.error.HTTPError as error:
        return error.code, _decoded(error.read(), error.headers)


def _decoded(raw: bytes, headers):
    if headers.get("content-type", "").startswith("application/json"):
        return json.loads(raw)
    return raw.decode()


@contextmanager
def chromium():
    """A headless Chromium with a fresh profile; skips where it cannot start."""
    webdriver = pytest.importorskip("selenium.webdriver",
                                    reason="selenium is missing: pip install -e '.[dev]'")
    from selenium.webdriver.chrome.service import Service

    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip(f"no {CHROMIUM} or {CHROMEDRIVER}: {INSTALL}")
    profile = tempfile.mkdtemp(prefix="matrixcalc-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS + (f"--user-data-dir={profile}",):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
