"""The web view in a real Chromium (Debian's `chromium` and `chromium-driver`, driven by
Selenium), against a whole medialib on a loopback port.

Selenium blocks, and the tests' origin servers live on the test's event loop: every browser
step runs in a thread (`Browser`'s async methods) so the loop keeps serving them meanwhile.
Chromium resolves no host name but 127.0.0.1's, so nothing a page does can leave the machine.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from medialib.bootstrap import Runtime, prepare
from medialib.settings import Settings
from medialib.web.app import create_app
from tests.support.origin import Origin
from tests.support.s3 import MotoS3
from tests.support.server import LiveServer, listening_socket
from tests.support.stack import Stack, stack_config

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.common.exceptions import (  # noqa: E402
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.common.alert import Alert  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

ARTIFACTS = Path(os.environ.get("MEDIALIB_TEST_ARTIFACTS", "test-artifacts")) / "web"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
WAIT = 20.0  # seconds a page may take to show what a test waits for

# What a page holds that would run as inline code, or that the policy would refuse to run: handler
# attributes, `javascript:` URLs, scripts and styles written into the page, style attributes.
INLINE_CODE = """
const found = [];
for (const e of document.querySelectorAll("*")) {
  for (const a of e.attributes) {
    if (a.name.startsWith("on") || a.name === "style") found.push(e.tagName + " " + a.name);
    if (/^\\s*javascript:/i.test(a.value)) found.push(e.tagName + " " + a.name + "=" + a.value);
  }
}
for (const s of document.querySelectorAll("script:not([src]), style")) found.push(s.outerHTML);
return found;
"""

# Writes an inline script into the page; says whether it ran, or which directive refused it.
INLINE_SCRIPT_PROBE = """
const done = arguments[arguments.length - 1];
document.addEventListener("securitypolicyviolation", (e) => done(e.effectiveDirective),
  {once: true});
const script = document.createElement("script");
script.textContent = "window.inlineScriptRan = true";
document.head.append(script);
if (window.inlineScriptRan) done("ran");
"""


class Browser:
    """One Chromium window; each step runs off the event loop."""

    def __init__(self, driver: Any, base: str) -> None:
        self.driver = driver
        self.base = base

    async def _run(self, call: Callable[[], Any]) -> Any:
        return await asyncio.to_thread(call)

    async def open(self, path: str) -> None:
        await self._run(lambda: self.driver.get(self.base + path))

    async def find(self, css: str) -> WebElement:
        found: WebElement = await self._run(lambda: self.driver.find_element(By.CSS_SELECTOR, css))
        return found

    async def all(self, css: str) -> list[WebElement]:
        found: list[WebElement] = await self._run(
            lambda: self.driver.find_elements(By.CSS_SELECTOR, css)
        )
        return found

    async def texts(self, css: str) -> list[str]:
        """The rendered text of every match, read in one step (htmx may swap them any time)."""
        found: list[str] = await self.script(
            "return [...document.querySelectorAll(arguments[0])].map(e => e.innerText.trim())",
            css,
        )
        return found

    async def fill(self, css: str, text: str) -> None:
        def typing() -> None:
            field = self.driver.find_element(By.CSS_SELECTOR, css)
            field.clear()
            field.send_keys(text)

        await self._run(typing)

    async def click(self, css: str) -> None:
        await self._run(lambda: self.driver.find_element(By.CSS_SELECTOR, css).click())

    async def until(self, check: Callable[[Any], Any], what: str) -> Any:
        """Wait for `check(driver)` to be true (WebDriverWait polls the page)."""

        def waiting() -> Any:
            try:
                # An element may be swapped out (htmx, a navigation) between finding and reading.
                ignored = (StaleElementReferenceException, NoSuchElementException)
                return WebDriverWait(self.driver, WAIT, ignored_exceptions=ignored).until(check)
            except TimeoutException:
                raise AssertionError(
                    f"the page never showed {what}; it is {self.driver.current_url}:\n"
                    + self.driver.find_element(By.TAG_NAME, "body").text[:2000]
                ) from None

        return await self._run(waiting)

    async def until_text(self, css: str, text: str) -> None:
        await self.until(
            lambda d: any(text in e.text for e in d.find_elements(By.CSS_SELECTOR, css)),
            f"'{text}' in {css}",
        )

    async def script(self, source: str, *args: Any) -> Any:
        return await self._run(lambda: self.driver.execute_script(source, *args))

    async def alert(self) -> Alert:
        """The dialog the page opened (confirm, alert), once it is open."""
        wait = WebDriverWait(self.driver, WAIT)
        found: Alert = await self._run(lambda: wait.until(expected_conditions.alert_is_present()))
        return found

    async def policy_violations(self) -> list[str]:
        """What the console says the Content-Security-Policy refused since the last call."""
        logged = await self._run(lambda: self.driver.get_log("browser"))
        return [e["message"] for e in logged if "Content Security Policy" in e["message"]]

    async def inline_code(self) -> list[str]:
        found: list[str] = await self.script(INLINE_CODE)
        return found

    async def inline_script_refused_by(self) -> str:
        """The directive that refuses an inline script written into the page ("ran" if none)."""
        found: str = await self._run(lambda: self.driver.execute_async_script(INLINE_SCRIPT_PROBE))
        await self.policy_violations()  # the probe's own refusal, read and dropped
        return found

    async def path(self) -> str:
        url: str = await self._run(lambda: self.driver.current_url)
        return url.removeprefix(self.base)

    async def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        target = ARTIFACTS / f"{name}.png"
        await self._run(lambda: self.driver.save_screenshot(str(target)))
        return target

    async def sign_in(self, token: str) -> None:
        await self.open("/ui/sign-in")
        await self.fill("#token", token)
        await self.click("form button[type=submit]")
        await self.until(lambda d: "/ui/sign-in" not in d.current_url, "a page past sign-in")

    async def sign_out(self) -> None:
        await self.open("/ui/library")
        if await self.all("nav form button"):
            await self.click("nav form button")
        await self.until(lambda d: "/ui/sign-in" in d.current_url, "the sign-in page")


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip(
            "no browser: install Debian's chromium and chromium-driver (.ci/run does) "
            "to run the web view's tests"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        # No name resolves but 127.0.0.1: no page can reach another machine.
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    ):
        options.add_argument(flag)
    # The console, where Chromium reports what the Content-Security-Policy refused.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=CHROMEDRIVER)
    driver = webdriver.Chrome(service=service, options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
async def browser(chromium: Any, web: Stack) -> AsyncIterator[Browser]:
    page = Browser(chromium, web.url)
    await asyncio.to_thread(chromium.delete_all_cookies)
    await page.policy_violations()  # what earlier tests left in the console is theirs
    yield page
    await asyncio.to_thread(chromium.set_window_size, 1280, 900)
    await page.open("/ui/sign-in")  # leave no page polling the server
    await asyncio.to_thread(chromium.delete_all_cookies)


async def start_web_stack(home: Path, s3: MotoS3 | None = None, **overrides: Any) -> Stack:
    """A medialib (SQLite, local folder) whose asset and rendition URLs are its own: the
    browser loads thumbnails from it and from nowhere else. With `s3`, its assets are in a
    bucket there instead (another origin, that the browser uploads to), whose CORS rules let
    the pages of this medialib PUT to it. `overrides` are settings."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "medialib.yaml"
    config.write_text(yaml.safe_dump(stack_config()))
    sock = listening_socket()
    port = sock.getsockname()[1]
    storage: dict[str, Any] = {}
    if s3 is not None:
        bucket = s3.new_bucket()
        _let_pages_put(s3, bucket, f"http://127.0.0.1:{port}")
        storage = {"storage_url": f"s3://{bucket}/media", "s3_endpoint": s3.endpoint}
    settings = Settings(
        home=home,
        config=config,
        host="127.0.0.1",
        port=port,
        fetch_allow=["127.0.0.1/32"],
        fetch_retry_base=0.01,
        rate_limit=10_000.0,
        # Entries stay as the tests write them (the analysis is tested on stacks of its own:
        # tests/imports/test_picture_analysis.py).
        **({"image_analysis": False} | storage | overrides),
    )
    runtime = Runtime.from_settings(settings)
    await prepare(runtime)
    server = LiveServer(create_app(runtime=Runtime.from_settings(settings)), sock=sock).start()
    return Stack("sqlite", settings, runtime, server)


def _let_pages_put(s3: MotoS3, bucket: str, origin: str) -> None:
    rule = {"AllowedOrigins": [origin], "AllowedMethods": ["PUT"], "AllowedHeaders": ["*"]}
    client = boto3.client("s3", endpoint_url=s3.endpoint, region_name="us-east-1")
    client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rule]})


@pytest.fixture(scope="module")
async def web(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    stack = await start_web_stack(tmp_path_factory.mktemp("web"))
    yield stack
    await stack.close()


@pytest.fixture
async def origin() -> AsyncIterator[Origin]:
    server = await Origin().start()
    yield server
    await server.stop()
