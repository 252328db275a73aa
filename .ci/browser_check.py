"""Render every page of the built book in headless Chromium and fail if a figure does not load or is blank, an
equation is not typeset, or a page is still a "not built yet" stub.

Usage: python .ci/browser_check.py [HTML_DIR] [PAGE ...]    (default: book/_build/html and every page of the book:
index.html, the chapters and the back matter; with --screenshot DIR also saves a PNG of each page there).

How: a loopback-only HTTP server serves HTML_DIR plus one extra page, /__check__.html, which loads each page in a
same-origin iframe, waits for MathJax to finish, and writes a JSON report into its own DOM: for every <img> whether it
loaded (naturalWidth > 0) and what it shows (drawn on a canvas: how many distinct colours, whether every pixel is
white), for every math element whether MathJax typeset it (an <mjx-container> inside), and whether the page is a stub
of a chapter never executed. Chromium runs with --dump-dom and no network (every host name but the loopback server's
resolves to nothing), so a page that needs the internet for a figure or for MathJax fails here. Debian's ``chromium``
is installed with apt-get when it is missing and we are root.
"""

from __future__ import annotations

import argparse
import functools
import html
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

SKIPPED_PAGES = ("genindex.html", "search.html", "py-modindex.html")  # Sphinx's own pages, not the book's
STUB_TEXT = "has not been executed yet"  # the text of a chapter's stub page (gridbook.book.build)
BROWSERS = ("chromium", "google-chrome", "chromium-browser")  # Debian, GitHub runners, Ubuntu
CHECK_PAGE = "/__check__.html"
CHECK_SCRIPT = """
<pre id="report">pending</pre>
<script>
const pages = %(pages)s;
const sleep = ms => new Promise(r => setTimeout(r, ms));
async function inspect(url) {
  const frame = document.createElement("iframe");
  frame.style.width = "1280px"; frame.style.height = "30000px";  // every figure inside the viewport: no lazy loads
  const loaded = new Promise(r => frame.onload = r);
  frame.src = url; document.body.appendChild(frame); await loaded;
  const win = frame.contentWindow, doc = frame.contentDocument;
  const started = () => win.MathJax && win.MathJax.startup && win.MathJax.startup.promise;
  for (let i = 0; i < 100 && win.MathJax && !started(); i++) await sleep(100);
  if (started()) await win.MathJax.startup.promise;
  const pending = [...doc.images].filter(img => !img.complete);
  await Promise.all(pending.map(img => new Promise(r => { img.onload = img.onerror = r; })));
  const maths = [...doc.querySelectorAll(".math, div.math, span.math")];
  const look = img => {  // distinct colours (of up to 4096 sampled pixels) and whether all are white
    if (!(img.complete && img.naturalWidth > 0)) return {colours: 0, white: false};
    const canvas = document.createElement("canvas");
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    const context = canvas.getContext("2d");
    context.drawImage(img, 0, 0);
    const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
    const step = Math.max(1, Math.floor(data.length / 4 / 4096)), seen = new Set();
    let white = true;
    for (let i = 0; i < data.length; i += 4 * step) {
      seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
      if (data[i + 3] > 0 && (data[i] < 250 || data[i + 1] < 250 || data[i + 2] < 250)) white = false;
    }
    return {colours: seen.size, white};
  };
  const toggles = [...doc.querySelectorAll("details.hide, details.toggle-details")];  // "show code" (hide-input)
  let opens = null;
  if (toggles.length) {
    toggles[0].open = true; await sleep(50);
    const code = toggles[0].querySelector(".cell_input, .highlight, pre");
    opens = !!code && code.getBoundingClientRect().height > 0 && code.innerText.trim().length > 0;
  }
  return {
    url, title: doc.title, stub: doc.body.innerText.includes(%(stub)s), toggles: toggles.length, toggle_opens: opens,
    images: [...doc.images].map(img => ({src: img.getAttribute("src"), ok: img.complete && img.naturalWidth > 0,
                                         ...look(img)})),
    math: maths.length, typeset: maths.filter(m => m.querySelector("mjx-container")).length,
    mathjax_loaded: !!(win.MathJax && win.MathJax.version),
    mathjax_version: (win.MathJax && win.MathJax.version) || null,
  };
}
(async () => {
  const results = [];
  for (const page of pages) results.push(await inspect(page));
  document.getElementById("report").textContent = JSON.stringify(results);
})().catch(e => { document.getElementById("report").textContent = "ERROR " + e; });
</script>
"""


def find_browser(install: bool = True) -> str:
    """The path of a Chromium binary; installs Debian's ``chromium`` when missing and running as root."""
    for name in BROWSERS:
        if path := shutil.which(name):
            return path
    if install and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        print("browser check: installing Debian's chromium (apt-get)", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env,
                       stdout=subprocess.DEVNULL)
        return find_browser(install=False)
    raise SystemExit("browser check: no chromium found; install Debian's `chromium` package (apt-get install chromium)")


def serve(directory: Path, pages: list[str]) -> http.server.ThreadingHTTPServer:
    """A loopback HTTP server for ``directory`` that also answers CHECK_PAGE; runs in a daemon thread."""
    script = CHECK_SCRIPT % {"pages": json.dumps(["/" + p for p in pages]), "stub": json.dumps(STUB_TEXT)}
    check = ("<!doctype html><html><body>" + script + "</body></html>").encode()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            if self.path.split("?")[0] != CHECK_PAGE:
                return super().do_GET()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(check)))
            self.end_headers()
            self.wfile.write(check)

        def log_message(self, *args):  # quiet
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def chromium_command(browser: str, profile_dir: str) -> list[str]:
    return [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-extensions", "--mute-audio",
            f"--user-data-dir={profile_dir}", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--virtual-time-budget=120000"]


def run_check(html_dir: Path, pages: list[str], screenshot_dir: Path | None = None, timeout: float = 300) -> list[dict]:
    """Render ``pages`` of ``html_dir``; returns one report per page (see CHECK_SCRIPT)."""
    for page in pages:
        if not (html_dir / page).is_file():
            raise SystemExit(f"browser check: {html_dir / page} does not exist; build the book first")
    browser = find_browser()
    server = serve(html_dir, pages)
    port = server.server_address[1]
    try:
        with tempfile.TemporaryDirectory() as profile_dir:
            command = chromium_command(browser, profile_dir)
            done = subprocess.run([*command, "--dump-dom", f"http://127.0.0.1:{port}{CHECK_PAGE}"],
                                  capture_output=True, text=True, timeout=timeout)
            if screenshot_dir is not None:
                screenshot_dir.mkdir(parents=True, exist_ok=True)
                for page in pages:
                    out = screenshot_dir / (re.sub(r"[^A-Za-z0-9]+", "_", page) + ".png")
                    subprocess.run([*command, "--window-size=1280,2000", f"--screenshot={out}",
                                    f"http://127.0.0.1:{port}/{page}"], capture_output=True, timeout=timeout)
    finally:
        server.shutdown()
    match = re.search(r'<pre id="report">(.*?)</pre>', done.stdout, re.S)
    if done.returncode != 0 or match is None or not match.group(1).startswith("["):
        detail = match.group(1) if match else done.stderr[-2000:]
        raise SystemExit(f"browser check: chromium did not produce a report (exit {done.returncode}): {detail}")
    return json.loads(html.unescape(match.group(1)))


def book_pages(html_dir: Path) -> list[str]:
    """Every page of a built book: the HTML files at its root and in chapters/, without Sphinx's own pages."""
    pages = sorted(p.relative_to(html_dir).as_posix() for p in [*html_dir.glob("*.html"),
                                                                *html_dir.glob("chapters/*.html")])
    return [p for p in pages if p not in SKIPPED_PAGES]


def problems(reports: list[dict], allow_stubs: bool = False, require_toggles: tuple[str, ...] = ()) -> list[str]:
    """Human-readable failures: figures that did not load or are blank, math left untypeset, stub pages, and on the
    pages of ``require_toggles`` no "show code" toggle, or a first toggle that does not open onto code."""
    found = []
    for report in reports:
        if report["url"].lstrip("/") in require_toggles and not report["stub"]:
            if not report["toggles"]:
                found.append(f"{report['url']}: no 'show code' toggle (cells that compute or draw are hide-input)")
            elif not report["toggle_opens"]:
                found.append(f"{report['url']}: its first 'show code' toggle does not open onto code")
        broken = [img["src"] for img in report["images"] if not img["ok"]]
        if broken:
            found.append(f"{report['url']}: {len(broken)} figure(s) did not load: {', '.join(broken[:5])}")
        blank = [img["src"] for img in report["images"] if img["ok"] and (img["colours"] <= 1 or img["white"])]
        if blank:
            found.append(f"{report['url']}: {len(blank)} figure(s) are blank (one colour or all white): "
                         f"{', '.join(blank[:5])}")
        if report["stub"] and not allow_stubs:
            found.append(f"{report['url']}: the page says the chapter is not built yet")
        if report["math"] and report["typeset"] < report["math"]:
            found.append(f"{report['url']}: {report['math'] - report['typeset']} of {report['math']} equations not "
                         f"typeset (MathJax loaded: {report['mathjax_loaded']})")
    return found


def self_test() -> None:
    """Show that the check can fail: a page with a drawn figure passes; a blank figure, a missing figure and a stub
    page are each reported."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        fig, ax = plt.subplots(figsize=(2, 2))
        ax.plot([0, 1], [0, 1])
        fig.savefig(root / "drawn.png")
        blank = plt.figure(figsize=(2, 2))
        blank.savefig(root / "blank.png")
        page = "<!doctype html><html><head><title>{0}</title></head><body><p>{1}</p>{2}</body></html>"
        (root / "good.html").write_text(page.format("good", "fine", '<img src="drawn.png">'))
        (root / "blank.html").write_text(page.format("blank", "fine", '<img src="blank.png">'))
        (root / "missing.html").write_text(page.format("missing", "fine", '<img src="nowhere.png">'))
        (root / "stub.html").write_text(page.format("stub", f"This chapter {STUB_TEXT}.", ""))
        code = '<details class="hide above-input"><summary>Show code</summary><pre>x = 1</pre></details>'
        (root / "code.html").write_text(page.format("code", "fine", code + '<img src="drawn.png">'))
        (root / "empty.html").write_text(page.format("empty", "fine", code.replace("x = 1", "")))
        pages = ["good.html", "blank.html", "missing.html", "stub.html", "code.html", "empty.html"]
        found = problems(run_check(root, pages), require_toggles=("good.html", "code.html", "empty.html"))
    expected = ["/good.html: no 'show code' toggle", "/blank.html: 1 figure(s) are blank",
                "/missing.html: 1 figure(s) did not load", "/stub.html: the page says the chapter is not built yet",
                "/empty.html: its first 'show code' toggle does not open onto code"]
    if len(found) != len(expected) or not all(f.startswith(e) for f, e in zip(found, expected, strict=True)):
        raise SystemExit(f"browser check: the self-test expected {expected}, got {found}")
    print("browser check: self-test passed (a blank figure, a missing figure, a stub page, a page without a code "
          "toggle and a toggle onto no code are caught)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html_dir", nargs="?", default="book/_build/html")
    parser.add_argument("pages", nargs="*", help="pages to check (default: every page of the book)")
    parser.add_argument("--screenshot", type=Path, default=None, help="directory for a PNG of each page")
    parser.add_argument("--allow-stubs", action="store_true", help="pass pages of chapters not built yet")
    parser.add_argument("--self-test", action="store_true", help="first show that the check catches bad pages")
    parser.add_argument("--require-toggles", action="append", default=None,
                        help="a page that must have 'show code' toggles (default: every chapter but intro)")
    parser.add_argument("--require-math", action="append", default=None,
                        help="a page that must contain typeset equations (default: chapters/methods.html)")
    args = parser.parse_args(argv)
    args.require_math = args.require_math or ["chapters/methods.html"]
    if args.self_test:
        self_test()
    html_dir = Path(args.html_dir).resolve()
    pages = args.pages or book_pages(html_dir)
    reports = run_check(html_dir, pages, args.screenshot)
    toggled = args.require_toggles or [p for p in pages if p.startswith("chapters/") and p != "chapters/intro.html"]
    found = problems(reports, args.allow_stubs, tuple(toggled))
    for report in reports:
        page = report["url"].lstrip("/")
        drawn = sum(i["ok"] and i["colours"] > 1 and not i["white"] for i in report["images"])
        print(f"browser check: {page}: {drawn}/{len(report['images'])} figures loaded and drawn, "
              f"{report['typeset']}/{report['math']} equations typeset (MathJax {report['mathjax_version']}), "
              f"{report['toggles']} code toggle(s)" + (" (the first opens)" if report["toggle_opens"] else ""))
        if page in args.require_math and report["typeset"] == 0:
            found.append(f"{report['url']}: no typeset equation; this page is expected to show equations")
    if args.screenshot is not None:
        print(f"browser check: a screenshot of each of the {len(pages)} pages is in {args.screenshot.resolve()}")
    for line in found:
        print(f"browser check: FAIL {line}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
