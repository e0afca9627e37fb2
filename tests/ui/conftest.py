"""Fixtures for the browser tests: a Jupyter server in a temp root, headless Chromium, a page.

The tests drive JupyterLab and Notebook 7 as a user would (click, Escape, Shift+Enter, keys on
the card) and read the kernel side back from a later cell and from the SQLite store.

Outside CI the tests skip when Chromium or Playwright is missing; with ``CI=true`` they fail.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DOCS_SCREENSHOTS = REPO / "docs" / "screenshots"
CHROMIUM = os.environ.get("ACTIVELABEL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Generous waits: a cold kernel plus the first import of pandas / scikit-learn can be slow.
SERVER_START_TIMEOUT = 90.0
UI_TIMEOUT_MS = 60_000

_timings: dict[str, float] = {}


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _skip_or_fail(reason: str):
    if _in_ci():
        pytest.fail(f"{reason} (CI=true: browser tests must run)", pytrace=False)
    pytest.skip(reason)


# -- timing ------------------------------------------------------------------------------------


def pytest_runtest_logreport(report):
    """Add up setup + call + teardown per browser test (server start and shutdown included)."""
    if "browser" in report.keywords:
        _timings[report.nodeid] = _timings.get(report.nodeid, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter):
    if not _timings:
        return
    terminalreporter.section("browser test wall time")
    lines = [f"{seconds:7.1f} s  {nodeid}" for nodeid, seconds in _timings.items()]
    for line in lines:
        terminalreporter.write_line(line)
    try:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "timings.txt").write_text("\n".join(lines) + "\n")
    except OSError:
        pass


# -- Chromium ----------------------------------------------------------------------------------


def _check_built_card() -> None:
    """The tests drive the bundle in activelabel_widget/static/: it must exist and be newer than js/."""
    static = REPO / "activelabel_widget" / "static"
    built = [static / "widget.js", static / "widget.css"]
    missing = [p.name for p in built if not p.exists()]
    if missing:
        pytest.fail(f"{static}/{missing} missing: run `npm install && npm run build` at the repo root", pytrace=False)
    sources = [p for p in (REPO / "js").glob("*") if p.suffix in (".js", ".css")]
    newer = [p.name for p in sources if p.stat().st_mtime > min(b.stat().st_mtime for b in built)]
    if newer:
        pytest.fail(f"js/{newer} changed after the last build: run `npm run build` at the repo root", pytrace=False)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        _skip_or_fail(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("the playwright Python package is not installed (pip install playwright)")
    _check_built_card()
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, request):
    """A fresh page (1280x900, 2x pixels for sharp screenshots) that records console errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=2)
    context.set_default_timeout(UI_TIMEOUT_MS)
    pg = context.new_page()
    pg.console_errors = []
    pg.on("console", lambda msg: pg.console_errors.append(msg.text) if msg.type == "error" else None)
    pg.on("pageerror", lambda error: pg.console_errors.append(f"pageerror: {error}"))
    try:
        yield pg
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            try:
                pg.screenshot(path=str(ARTIFACTS / f"{_safe_name(request.node.name)}.failed.png"))
            except Exception as error:  # the page may be gone; the report says why the test failed
                print(f"no failure screenshot: {error}")
        if pg.console_errors:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            name = _safe_name(request.node.name)
            (ARTIFACTS / f"{name}.console.txt").write_text("\n".join(pg.console_errors) + "\n")
        context.close()


# -- Jupyter server ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _safe_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name)


@dataclass
class JupyterServer:
    """One running ``jupyter lab`` / ``jupyter notebook`` in its own temp root."""

    app: str  # "lab" or "notebook"
    root: Path
    home: Path
    port: int
    token: str
    process: subprocess.Popen
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}/{path.lstrip('/')}{sep}token={self.token}"

    def notebook_url(self, name: str) -> str:
        """Where a user opens the notebook in this front end."""
        if self.app == "lab":
            return self.url(f"lab/tree/{name}")
        return self.url(f"notebooks/{name}")

    @property
    def settings_dir(self) -> Path:
        """JupyterLab's user settings for this server (JUPYTERLAB_SETTINGS_DIR)."""
        return self.home / "lab-settings"

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no server log)"

    def wait_for_kernel(self, timeout: float = 120.0) -> None:
        """Wait until the open notebook's kernel is connected and idle (see below)."""
        _wait_for_connected_kernel(self, timeout)

    def api(self, path: str, method: str = "GET", timeout: float = 5.0):
        request = urllib.request.Request(self.url(f"api/{path}"), method=method)
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None


def _wait_for_connected_kernel(server: JupyterServer, timeout: float) -> None:
    """Wait until a front end has a websocket open to a kernel and that kernel is idle.

    Before that, a cell run with Shift+Enter is dropped: the notebook has no kernel yet, and
    its execution indicator already reads "idle" (it shows the state of no kernel as idle).
    """
    deadline = time.monotonic() + timeout
    kernels = []
    while time.monotonic() < deadline:
        try:
            kernels = server.api("kernels") or []
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            kernels = []
        if any(k.get("connections", 0) >= 1 and k.get("execution_state") == "idle" for k in kernels):
            return
        time.sleep(0.2)
    raise AssertionError(f"no kernel connected and idle within {timeout:.0f} s: {kernels}\n{server.log_tail()}")


def _wait_until_up(server: JupyterServer) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"jupyter {server.app} exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            server.api("status", timeout=2.0)
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"jupyter {server.app} did not answer within {SERVER_START_TIMEOUT:.0f} s:\n{server.log_tail()}")
        time.sleep(0.25)


def _stop(server: JupyterServer) -> None:
    """Shut the kernels down, then the server; kill the server's process group if it hangs."""
    process = server.process
    if process.poll() is None:
        try:
            for kernel in server.api("kernels") or []:
                server.api(f"kernels/{kernel['id']}", method="DELETE", timeout=20.0)
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        try:
            server.api("shutdown", method="POST", timeout=5.0)
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            process.wait(timeout=10)


@pytest.fixture
def start_jupyter(request):
    """Start ``jupyter lab`` or ``jupyter notebook`` on a free port with a random token.

    Call it with ``"lab"`` or ``"notebook"`` and optional ``settings={"plugin/id": {...}}`` to
    write JupyterLab user settings before the server starts. The notebook root is a fresh temp
    dir; config, settings, workspaces and runtime files live in another temp dir, so a user's
    own Jupyter set-up never leaks in. The repo root goes on the kernel's PYTHONPATH, so the
    checkout under test is what ``import activelabel_widget`` finds.
    """
    started: list[JupyterServer] = []
    bases: list[Path] = []

    def start(app: str, settings: dict | None = None) -> JupyterServer:
        assert app in ("lab", "notebook"), app
        # a short, neutral path: the card's footer shows where labels are saved, and the
        # screenshots in docs/ are taken from these runs
        base = Path(tempfile.mkdtemp(prefix="activelabel-"))
        bases.append(base)
        root = base / "notebooks"
        home = base / "home"
        root.mkdir()
        home.mkdir()
        # no "get notified about Jupyter news?" toast over the notebook (and no request for news)
        all_settings = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}
        all_settings.update(settings or {})
        for plugin, values in all_settings.items():
            package, _, name = plugin.partition(":")
            target = home / "lab-settings" / package / f"{name}.jupyterlab-settings"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(values))
        port, token = _free_port(), secrets.token_hex(24)
        env = dict(os.environ)
        env.update(
            {
                "JUPYTER_CONFIG_DIR": str(home / "config"),
                "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
                "JUPYTERLAB_SETTINGS_DIR": str(home / "lab-settings"),
                "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
                "IPYTHONDIR": str(home / "ipython"),
                "MPLCONFIGDIR": str(home / "matplotlib"),
                "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]),
                "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.pop("JUPYTER_PATH", None)
        log_path = base / "server.log"
        cmd = [
            sys.executable, "-m", "jupyter", app,
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--port-retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--allow-root",
        ]
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
        server = JupyterServer(app, root, home, port, token, process, log_path)
        started.append(server)
        _wait_until_up(server)
        return server

    try:
        yield start
    finally:
        failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
        for server in started:
            _stop(server)
            if failed:
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                shutil.copy(server.log_path, ARTIFACTS / f"{_safe_name(request.node.name)}.{server.app}-server.log")
        for base in bases:
            shutil.rmtree(base, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so fixtures can save logs when a test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def publish_screenshot():
    """Copy a screenshot to docs/screenshots/ when ACTIVELABEL_UPDATE_SCREENSHOTS=1 (look at it first)."""

    def publish(source: Path, name: str) -> None:
        if os.environ.get("ACTIVELABEL_UPDATE_SCREENSHOTS") == "1":
            DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, DOCS_SCREENSHOTS / name)

    return publish


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
