"""Headless Chromium for the e2e tests: the DOM, a screenshot, and what the page requested.

Pages are served from a loopback HTTP server, and Chromium resolves every other host to
nothing (`--host-resolver-rules`), so no request can leave the machine; its NetLog then
tells which requests the page itself started (their initiator is the page's origin), as
opposed to Chromium's own background ones.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import shutil
import subprocess
import threading
import urllib.parse
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
MISSING = "no chromium on PATH: `apt-get install -y chromium` (.ci/run installs it)"
SCREENSHOTS_ENV = "KFX_SCREENSHOTS"  # a folder: the tests also save their screenshots there
TIMEOUT_S = 120


@contextlib.contextmanager
def serve(folder: Path):
    """Serves `folder` on 127.0.0.1 (a free port); yields (base URL, requested paths)."""
    paths: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            paths.append(self.path)

    handler = functools.partial(Handler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", paths
    finally:
        server.shutdown()
        server.server_close()


def _chromium(url: str, work: Path, *flags: str) -> subprocess.CompletedProcess:
    work.mkdir(parents=True, exist_ok=True)
    args = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--hide-scrollbars",
        f"--user-data-dir={work / 'profile'}",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        *flags,
        url,
    ]
    return subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT_S, check=True)


def dom(url: str, work: Path, budget_ms: int = 2000) -> tuple[str, list[str]]:
    """The rendered DOM of `url` and the URLs the page requested beyond its own origin."""
    netlog = work / "net.json"
    done = _chromium(
        url, work, f"--log-net-log={netlog}", f"--virtual-time-budget={budget_ms}", "--dump-dom"
    )
    return done.stdout, page_requests(netlog, url)


def page_requests(netlog: Path, url: str) -> list[str]:
    """URLs that the page at `url` requested from other origins (from Chromium's NetLog)."""
    origin = "{0.scheme}://{0.netloc}".format(urllib.parse.urlsplit(url))
    log = json.loads(netlog.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    found = []
    for event in log["events"]:
        params = event.get("params", {})
        if event["type"] == start and params.get("initiator") == origin:
            if not params.get("url", "").startswith(origin + "/"):
                found.append(params["url"])
    return found


def screenshot(url: str, work: Path, path: Path, size=(1200, 1800), budget_ms=2000) -> Path:
    """A PNG of `url` at `size`, after `budget_ms` of virtual time (scripts, rendering)."""
    _chromium(
        url,
        work,
        f"--window-size={size[0]},{size[1]}",
        f"--virtual-time-budget={budget_ms}",
        f"--screenshot={path}",
    )
    publish(path)
    return path


def publish(path: Path) -> None:
    """With $KFX_SCREENSHOTS, a palette-quantised copy there (small enough to commit)."""
    folder = os.environ.get(SCREENSHOTS_ENV)
    if not folder:
        return
    from PIL import Image

    Path(folder).mkdir(parents=True, exist_ok=True)
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=128)
        small.save(Path(folder) / path.name, optimize=True)
