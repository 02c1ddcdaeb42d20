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

import pytest
import yaml

from medialib.bootstrap import Runtime, prepare
from medialib.settings import Settings
from medialib.web.app import create_app
from tests.support.origin import Origin
from tests.support.server import LiveServer, listening_socket
from tests.support.stack import Stack, stack_config

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.common.exceptions import (  # noqa: E402
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

ARTIFACTS = Path(os.environ.get("MEDIALIB_TEST_ARTIFACTS", "test-artifacts")) / "web"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
WAIT = 20.0  # seconds a page may take to show what a test waits for


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
    yield page
    await asyncio.to_thread(chromium.set_window_size, 1280, 900)
    await page.open("/ui/sign-in")  # leave no page polling the server
    await asyncio.to_thread(chromium.delete_all_cookies)


async def start_web_stack(home: Path) -> Stack:
    """A medialib (SQLite, local folder) whose asset and rendition URLs are its own: the
    browser loads thumbnails from it and from nowhere else."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "medialib.yaml"
    config.write_text(yaml.safe_dump(stack_config()))
    sock = listening_socket()
    port = sock.getsockname()[1]
    settings = Settings(
        home=home,
        config=config,
        host="127.0.0.1",
        port=port,
        fetch_allow=["127.0.0.1/32"],
        fetch_retry_base=0.01,
        rate_limit=10_000.0,
    )
    runtime = Runtime.from_settings(settings)
    await prepare(runtime)
    server = LiveServer(create_app(runtime=Runtime.from_settings(settings)), sock=sock).start()
    return Stack("sqlite", settings, runtime, server)


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
