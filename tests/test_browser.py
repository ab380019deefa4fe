"""The registration notebook in a real browser: JupyterLab serves it, headless Chromium runs it,
fills the FSI form, submits, and reads the created patron's barcode from the page.

Select it with ``-m browser``. Skipped, saying why, only when Chromium, its driver, selenium or
JupyterLab is missing. A screenshot is kept under ``build/``.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "workflows" / "registration.ipynb"
SCREENSHOT = ROOT / "build" / "browser-registration.png"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1400,2400")
STARTUP_SECONDS = 60
RUN_SECONDS = 120


def _missing() -> str | None:
    for program in ("chromium", "chromedriver"):
        if shutil.which(program) is None:
            return f"{program} is not installed (Debian: apt-get install -y chromium chromium-driver)"
    for module in ("selenium", "jupyterlab"):
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not installed (pip install -e '.[notebooks,test]')"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """JupyterLab on 127.0.0.1 with a token, serving a copy of the notebook; yields its URL."""
    why = _missing()
    if why:
        pytest.skip(why)
    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(NOTEBOOK, served / NOTEBOOK.name)
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={served}", "--expose-app-in-browser",
         "--ServerApp.port_retries=0", "--allow-root", "--LabApp.news_url=", "--LabApp.check_for_updates_class="
         "jupyterlab.NeverCheckForUpdate"],
        env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        _wait_until_serving(server, port)
        yield f"http://127.0.0.1:{port}/lab/tree/{NOTEBOOK.name}?token={token}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_until_serving(server: subprocess.Popen, port: int) -> None:
    """Read the server's log until it says it serves on our port (no polling, no sleeping)."""
    import threading

    ready = threading.Event()
    lines: list[str] = []

    def read() -> None:
        for line in server.stderr:
            lines.append(line)
            if f"127.0.0.1:{port}/lab" in line:
                ready.set()
        ready.set()  # the server ended

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(STARTUP_SECONDS) or server.poll() is not None:
        raise AssertionError("JupyterLab did not start:\n" + "".join(lines[-20:]))


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tempfile.mkdtemp(dir=tmp_path)}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver")), options=options)
    yield driver
    driver.quit()


def test_the_notebook_runs_and_its_fsi_form_registers_a_patron(lab, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, RUN_SECONDS)
    browser.get(lab)
    wait.until(lambda page: page.execute_script(
        "const app = window.jupyterapp; const panel = app && app.shell.currentWidget;"
        "return !!(panel && panel.sessionContext && panel.sessionContext.session"
        " && panel.sessionContext.session.kernel && panel.sessionContext.session.kernel.status === 'idle');"))
    browser.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells');")
    wait.until(lambda page: len(page.find_elements(By.CSS_SELECTOR, ".pk-registration-form")) == 4)
    form = browser.find_elements(By.CSS_SELECTOR, ".pk-registration-form")[0]
    assert "FSI: a new patron" in form.text
    person = {"username": "katherine.johnson", "first_name": "Katherine", "surname": "Johnson",
              "email": "katherine.johnson@example"}
    for name, value in person.items():
        field = form.find_element(By.CSS_SELECTOR, f".pk-field-{name} input")
        field.send_keys(value + Keys.TAB)
    error = form.find_element(By.CSS_SELECTOR, ".pk-field-email").find_element(By.XPATH, "following-sibling::*[1]")
    wait.until(lambda _: "valid email" in error.text)  # beside the field that broke the rule
    submit = form.find_element(By.CSS_SELECTOR, "button.pk-submit")
    assert not submit.is_enabled()
    email = form.find_element(By.CSS_SELECTOR, ".pk-field-email input")
    email.send_keys(".org" + Keys.TAB)
    wait.until(lambda _: submit.is_enabled() and error.text == "")
    submit.click()
    created = wait.until(shown.visibility_of_element_located((By.CSS_SELECTOR, ".pk-outcome .pk-created-id")))
    outcome = browser.find_element(By.CSS_SELECTOR, ".pk-outcome")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", outcome)
    SCREENSHOT.parent.mkdir(exist_ok=True)
    browser.save_screenshot(str(SCREENSHOT))
    assert outcome.get_attribute("data-outcome") == "created"
    assert created.get_attribute("data-field") == "barcode"
    assert re.fullmatch(r"\d{7}", created.text)  # the sandbox numbers new barcodes as 7 digits
