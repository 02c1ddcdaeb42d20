"""The web view's library page with 100 thumbnails: what it weighs (HTML, CSS and JS, the
thumbnails aside) and how long Chromium takes to show it, beside the same bytes served as static
files by nginx, in the same run.

    python bench/web_page.py [--rounds 5]

A `medialib serve` (embedded default, `make serve` settings) holds 100 JPEG entries, uploaded
and registered through the API. Chromium (Debian's, headless, driven by Selenium, the cache off)
signs in and loads `/ui/library` once to warm the renditions, then the page's bytes, its CSS and
JS and its 100 thumbnails are saved into nginx's folder under the same paths (nginx, idle
while ours is measured, stays up).

Each round, interleaved: the limit (nginx serving the saved copy; medialib is stopped meanwhile,
so nothing of ours runs), then ours (medialib rendering the page live, thumbnails from its
rendition store). The time is from the navigation's start until every thumbnail is decoded (the
viewport is tall enough for all of them, so lazy loading defers none); the load event's time is
shown too. Printed per round: both times and their ratio; then the medians.
Targets: under 300 KB of HTML, CSS and JS; rendered in under 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from PIL import Image
from selenium import webdriver

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.process import ServerProcess

from bench.origin import Nginx

VERSION = "2026-05"
ENTRIES = 100
TARGET_BYTES = 300_000
TARGET_SECONDS = 1.0
ACCEPT_IMAGES = "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"


def picture(i: int) -> bytes:
    image = Image.new("RGB", (1200, 800), ((i * 37) % 256, (i * 91) % 256, (i * 53) % 256))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


async def fill_library(server: ServerProcess, token: str) -> None:
    """100 image entries, their bytes put through the upload endpoint."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60) as api:
        entries = []
        for i in range(ENTRIES):
            data = picture(i)
            asked = {"fileName": f"{i}.jpg", "mimeType": "image/jpeg", "size": len(data)}
            upload = (await api.post(f"/api/{VERSION}/mediaLibrary/uploads", json=asked)).json()
            put = await api.put(upload["uploadUrl"], content=data, headers=upload["headers"])
            put.raise_for_status()
            asset = {"key": upload["key"], "mimeType": "image/jpeg", "size": len(data)}
            asset |= {"filename": f"{i}.jpg"}
            entries.append(
                {
                    "systemName": "bench",
                    "externalId": f"page-{i}",
                    "mediaType": "image",
                    "asset": asset | {"width": 1200, "height": 800},
                    "metadata": {"title": f"Harbour picture {i}", "caption": "A" * 80},
                }
            )
        body = {"mediaLibraryEntries": entries}
        done = await api.post(f"/api/{VERSION}/import/mediaLibrary", json=body)
        done.raise_for_status()
        assert all(r["ok"] for r in done.json()["results"]), done.text[:500]


def headless_chromium(*flags: str) -> Any:
    """Debian's chromium, headless, reaching 127.0.0.1 only, with `flags` besides."""
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        *flags,
    ):
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
    return webdriver.Chrome(service=service, options=options)


def chromium() -> Any:
    driver = headless_chromium(
        "--window-size=1280,900", "--no-first-run", "--disable-background-networking"
    )
    driver.set_script_timeout(60)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    # A viewport tall enough for all 100 thumbnails: lazy loading defers none of them, so the
    # load event waits for every one.
    metrics = {"width": 1280, "height": 4000, "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    return driver


def load(driver: Any, url: str) -> dict[str, Any]:
    """Load `url`; the seconds until the page is loaded and until every thumbnail is decoded,
    and what it fetched (bytes of HTML, CSS and JS; thumbnails shown)."""
    driver.get(url)
    timing: dict[str, Any] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "Promise.all([...document.images].map(i => i.decode().catch(() => null))).then(() => {"
        "  const nav = performance.getEntriesByType('navigation')[0];"
        "  const res = performance.getEntriesByType('resource');"
        "  const code = res.filter(r => /\\.(css|js)(\\?|$)/.test(r.name));"
        "  done({loaded: nav.loadEventEnd / 1000, seconds: performance.now() / 1000,"
        "    code: nav.decodedBodySize + code.reduce((s, r) => s + r.decodedBodySize, 0),"
        "    shown: [...document.images].filter(i => i.complete && i.naturalWidth > 0).length});"
        "});"
    )
    return timing


def save_copy(driver: Any, server: ServerProcess, cookie: str, folder: Path) -> str:
    """The page, its CSS, JS and thumbnails as files under their own paths; the page's path."""
    cookies = {"medialib_session": cookie}
    with httpx.Client(base_url=server.url, cookies=cookies, timeout=60) as client:
        page = client.get("/ui/library")
        page.raise_for_status()
        (folder / "ui").mkdir(parents=True, exist_ok=True)
        # Thumbnail URLs name medialib's address: the copy names nginx's (same paths).
        (folder / "ui" / "library.html").write_text(page.text.replace(server.url, ""))
        urls = driver.execute_script(
            "return performance.getEntriesByType('resource').map(r => r.name)"
        )
        for url in urls:
            path = urlsplit(url).path
            answer = client.get(url, headers={"Accept": ACCEPT_IMAGES})
            answer.raise_for_status()
            target = folder / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(answer.content)
    return "/ui/library.html"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="medialib-bench-web-"))
    server = ServerProcess(home)
    token = server.run("token", "create", "--project", "demo", "--scope", "public-api:write")
    server.serve()
    nginx = Nginx()
    driver = chromium()
    rounds: list[tuple[float, float]] = []
    try:
        asyncio.run(fill_library(server, token))
        driver.get(f"{server.url}/ui/sign-in")
        driver.find_element("css selector", "#token").send_keys(token)
        driver.find_element("css selector", "form button[type=submit]").click()
        cold = load(driver, f"{server.url}/ui/library")
        cookie = driver.get_cookie("medialib_session")["value"]
        page_path = save_copy(driver, server, cookie, nginx.files)
        warm = load(driver, f"{server.url}/ui/library")
        print(
            f"first load (every thumbnail rendered): {cold['seconds']:.2f} s; "
            f"{warm['code']:,} bytes of HTML, CSS and JS; {warm['shown']} thumbnails shown",
            flush=True,
        )
        nginx.start()
        for number in range(1, args.rounds + 1):
            server.stop()
            limit = load(driver, nginx.url(page_path.lstrip("/")))
            assert limit["shown"] == ENTRIES, limit
            server.serve()
            driver.get(f"{server.url}/ui/sign-in")
            ours = load(driver, f"{server.url}/ui/library")
            assert ours["shown"] == ENTRIES, ours
            rounds.append((limit["seconds"], ours["seconds"]))
            print(
                f"round {number}: limit (nginx, static copy) {limit['seconds']:.3f} s "
                f"(load event {limit['loaded']:.3f} s), medialib {ours['seconds']:.3f} s "
                f"(load event {ours['loaded']:.3f} s), ratio "
                f"{ours['seconds'] / limit['seconds']:.2f}",
                flush=True,
            )
    finally:
        driver.quit()
        server.stop()
        nginx.stop()
        shutil.rmtree(home, ignore_errors=True)

    ratios = [ours / limit for limit, ours in rounds]
    ours_median = statistics.median(o for _, o in rounds)
    print(f"\nthe library page, {ENTRIES} thumbnails, Chromium headless, {args.rounds} rounds")
    print(f"  limit (nginx, static copy):   {statistics.median(r[0] for r in rounds):.3f} s")
    print(f"  medialib (live):              {ours_median:.3f} s")
    shown = ", ".join(f"{r:.2f}" for r in ratios)
    print(f"  ratio ours / limit, median:   {statistics.median(ratios):.2f}  ({shown})")
    weight = warm["code"]
    print(
        f"  HTML + CSS + JS: {weight:,} bytes (target under {TARGET_BYTES:,}: "
        f"{'met' if weight < TARGET_BYTES else 'NOT MET'}); render "
        f"{'met' if ours_median < TARGET_SECONDS else 'NOT MET'} (target under 1 s)"
    )


if __name__ == "__main__":
    main()
