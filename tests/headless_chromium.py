"""A headless Chromium driven over the DevTools protocol, without network access (for the docs tests).

One browser process opens many pages in turn: it talks the Chrome DevTools Protocol over a pipe
(``--remote-debugging-pipe``: JSON messages separated by NUL bytes on file descriptors 3 and 4), so it
needs no Python package beyond the standard library. The network is cut three ways: every host name
resolves to nothing, every request goes to a dead proxy, and each page's network is emulated offline;
every request that is not a local file is recorded, so a test can assert there was none.

As a script it takes screenshots::

    python tests/headless_chromium.py docs/_build/html/index.html landing.png [--width 1400 --height 1800]
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: the binaries tried, in order (Debian's package is "chromium"); SYMHESS_CHROMIUM overrides
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

#: JavaScript run in a loaded page: waits for MathJax's first typesetting, then reports what a reader
#: sees. Code blocks (pre, code) are left out of the text: they show TeX source on purpose.
COLLECT = r"""
new Promise(resolve => {
  const report = () => {
    const mj = window.MathJax;
    const mathjax = !!(mj && mj.startup && mj.startup.promise);
    const ready = mathjax ? mj.startup.promise : Promise.resolve();
    ready.then(() => {
      const marked = Array.from(document.querySelectorAll('span.math, div.math'));
      const untypeset = marked.filter(el => !el.querySelector('mjx-container')).map(el => el.textContent.slice(0, 120));
      const errors = Array.from(document.querySelectorAll('mjx-merror, [data-mjx-error]'))
        .map(el => el.getAttribute('data-mjx-error') || el.textContent.slice(0, 120));
      const images = Array.from(document.images).map(img => ({src: img.getAttribute('src'), ok: img.complete && img.naturalWidth > 0,
        cls: (img.className || '') + ' ' + (img.parentElement ? img.parentElement.className : '')}));
      resolve(JSON.stringify({
        title: document.title, mathjax: mathjax, math: marked.length,
        typeset: document.querySelectorAll('mjx-container').length, untypeset: untypeset, errors: errors,
        images: images, text: visibleText(),
        code: Array.from(document.querySelectorAll('div.highlight pre')).map(el => el.innerText),
        overflow: Array.from(document.querySelectorAll('div.highlight pre'))
          .filter(el => el.scrollWidth > el.clientWidth + 1).map(el => el.textContent.slice(0, 100)),
      }));
    }).catch(err => resolve(JSON.stringify({error: String(err)})));
  };
  // visible text of the page without code blocks: innerText of the live body, code removed from a copy
  const visibleText = () => {
    const pres = Array.from(document.querySelectorAll('pre, code, mjx-assistive-mml'));
    const saved = pres.map(el => [el, el.style.display]);
    pres.forEach(el => { el.style.display = 'none'; });
    const text = document.body.innerText;
    saved.forEach(([el, d]) => { el.style.display = d; });
    return text;
  };
  if (document.readyState === 'complete') report(); else window.addEventListener('load', report);
})
"""


def find_chromium() -> str | None:
    """The path of a Chromium binary, or None."""
    if os.environ.get("SYMHESS_CHROMIUM"):
        return shutil.which(os.environ["SYMHESS_CHROMIUM"]) or os.environ["SYMHESS_CHROMIUM"]
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


class Chromium:
    """One headless Chromium process with one tab, offline. Use as a context manager."""

    def __init__(self, binary: str | None = None, width: int = 1400, height: int = 1000, timeout: float = 60.0):
        self.binary = binary or find_chromium()
        if self.binary is None:
            raise FileNotFoundError("no Chromium binary found (tried " + ", ".join(CANDIDATES) + ")")
        self.width, self.height, self.timeout = width, height, timeout
        self.remote_requests: list[str] = []
        self._next_id = 0
        self._buffer = b""
        self._events: list[dict] = []

    # -- process -----------------------------------------------------------------------------------

    def __enter__(self) -> Chromium:
        self._profile = tempfile.mkdtemp(prefix="symhess-chromium-")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        args = [self.binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--remote-debugging-pipe", f"--user-data-dir={self._profile}", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--mute-audio",
                "--allow-file-access-from-files",
                "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9",
                "--proxy-bypass-list=<-loopback>", f"--window-size={self.width},{self.height}", "about:blank"]

        def _fds() -> None:  # in the child: the pipe ends become fds 3 (commands in) and 4 (replies out)
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)

        self._proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, preexec_fn=_fds, pass_fds=(3, 4))
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.send("Page.enable", session=True)
        self.send("Network.enable", session=True)
        self.send("Network.emulateNetworkConditions", {"offline": True, "latency": 0, "downloadThroughput": -1,
                                                       "uploadThroughput": -1}, session=True)
        self.send("Emulation.setDeviceMetricsOverride", {"width": self.width, "height": self.height,
                                                          "deviceScaleFactor": 1, "mobile": False}, session=True)
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except Exception:  # noqa: BLE001  (already gone: kill below)
            pass
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)
        shutil.rmtree(self._profile, ignore_errors=True)

    # -- protocol ----------------------------------------------------------------------------------

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_chrome], [], [], left)
            if ready:
                chunk = os.read(self._from_chrome, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"Chromium exited (status {self._proc.poll()})")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message = json.loads(raw)
        if message.get("method") == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if not url.startswith(("file:", "data:", "blob:", "about:", "chrome:")):
                self.remote_requests.append(url)
        return message

    def send(self, method: str, params: dict | None = None, session: bool = False, timeout: float | None = None):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self._session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self._events.append(reply)

    def _wait_event(self, method: str, timeout: float | None = None) -> dict:
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            for i, event in enumerate(self._events):
                if event["method"] == method:
                    return self._events.pop(i)
            message = self._read_message(deadline)
            if "method" in message:
                self._events.append(message)

    # -- pages -------------------------------------------------------------------------------------

    def open(self, path: Path) -> None:
        """Load a local HTML file and wait for its load event."""
        self._events.clear()
        result = self.send("Page.navigate", {"url": Path(path).resolve().as_uri()}, session=True)
        if result.get("errorText"):
            raise RuntimeError(f"{path}: {result['errorText']}")
        self._wait_event("Page.loadEventFired")

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                "returnByValue": True}, session=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"JavaScript error: {result['exceptionDetails']}")
        return result["result"].get("value")

    def inspect(self, path: Path) -> dict:
        """Open ``path`` and report, once MathJax has typeset it: title, visible text (without code
        blocks), math elements and whether each was typeset, MathJax errors, images and whether each
        loaded, the text of the code blocks and those whose lines run past their right edge."""
        self.open(path)
        return json.loads(self.evaluate(COLLECT))

    def screenshot(self, path: Path, out: Path, height: int | None = None, dark: bool = False) -> None:
        """A PNG of the top of the page (``height`` pixels tall; the window's height by default)."""
        if dark:
            self.send("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
                      session=True)
        self.open(path)
        self.evaluate(COLLECT)  # MathJax done
        height = height or self.height
        self.send("Emulation.setDeviceMetricsOverride", {"width": self.width, "height": height,
                                                          "deviceScaleFactor": 1, "mobile": False}, session=True)
        time.sleep(0.3)
        data = self.send("Page.captureScreenshot", {"format": "png"}, session=True)["data"]
        Path(out).write_bytes(base64.b64decode(data))
        self.send("Emulation.setDeviceMetricsOverride", {"width": self.width, "height": self.height,
                                                          "deviceScaleFactor": 1, "mobile": False}, session=True)
        if dark:
            self.send("Emulation.setEmulatedMedia", {"features": []}, session=True)


def main(argv: list[str]) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="screenshot local HTML pages with headless Chromium, offline")
    ap.add_argument("pairs", nargs="+", help="PAGE.html OUT.png [PAGE.html OUT.png ...]")
    ap.add_argument("--width", type=int, default=1400)
    ap.add_argument("--height", type=int, default=1800)
    ap.add_argument("--dark", action="store_true", help="prefers-color-scheme: dark")
    args = ap.parse_args(argv)
    if len(args.pairs) % 2:
        ap.error("give pages and output files in pairs")
    with Chromium(width=args.width, height=900) as browser:
        for page, out in zip(args.pairs[::2], args.pairs[1::2]):
            browser.screenshot(Path(page), Path(out), height=args.height, dark=args.dark)
            print(f"{out}: {page}")
        if browser.remote_requests:
            print("remote requests (blocked):", *browser.remote_requests, sep="\n  ")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
