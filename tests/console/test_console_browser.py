"""The console in headless Chromium (Debian's build, driven by Playwright).

A real API takes a few uploads, the projector projects them into the test's schema, and
the console shows what the log holds: the login refuses a wrong password and throttles,
the overview counts match the log, a lookup lists an item's events in order, and a
re-drive asks first and then appends the dead letter's event to its topic.
"""

import asyncio
import dataclasses
from pathlib import Path

import pytest
from console_harness import (
    PASSWORD,
    add_operators,
    console_settings,
    dead_letter,
    drop_schemas,
    lifecycle,
    project_all,
    serve_console,
)
from playwright.async_api import Page, async_playwright

from bench.event_story import produce
from bundlestream.schemas.codec import encode
from tests.api.upload_harness import read_events, serve, signed_item

pytestmark = pytest.mark.stack

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"
UPLOADS = 4


async def log_in(page: Page, url: str, name: str, password: str) -> str:
    await page.goto(f"{url}/login")
    await page.fill("input[name=name]", name)
    await page.fill("input[name=password]", password)
    async with page.expect_navigation():
        await page.click("button[type=submit]")
    error = page.locator("#login-error")
    return await error.inner_text() if await error.count() else ""


async def test_console_in_chromium(tmp_path: Path) -> None:
    settings = console_settings(tmp_path)
    add_operators(settings, "ada", "bob")
    try:
        async with serve(settings) as api, api.client() as client:
            for seed in range(UPLOADS):
                answer = await client.post(
                    "/tx",
                    content=signed_item(300 + seed, seed + 3),
                    headers={"Content-Type": "application/octet-stream"},
                )
                assert answer.status_code == 200, answer.text
            received = api.events()
        first = received[0]
        await asyncio.to_thread(produce, settings, list(lifecycle(first, "plan-1", "T" * 43)))
        await asyncio.to_thread(project_all, settings)
        async with serve_console(settings) as url, async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path="/usr/bin/chromium")
            page = await browser.new_page(viewport={"width": 1200, "height": 900})
            refusals = [await log_in(page, url, "ada", "wrong password!") for _ in range(3)]
            throttled = await log_in(page, url, "ada", PASSWORD)
            assert await log_in(page, url, "bob", PASSWORD) == ""
            shown_total = await page.inner_text("#received-total")
            shown_new = await page.inner_text("#items-by-state [data-state=new]")
            shown_permanent = await page.inner_text("#items-by-state [data-state=permanent]")
            await page.screenshot(path=SCREENSHOTS / "overview.png", full_page=True)
            await page.goto(f"{url}/lookup?id={first.data_item_id}")
            events = await page.locator("#events .event-name").all_inner_texts()
            item_state = await page.inner_text("#item-state")
            await page.screenshot(path=SCREENSHOTS / "lookup.png", full_page=True)
            replayed = dataclasses.replace(first, data_item_id="R" * 43)
            await asyncio.to_thread(dead_letter, settings, encode(replayed), first.owner_address)
            await page.goto(f"{url}/dead-letters")
            await page.click("#redrive-link")
            plan = await page.inner_text("#redrive-plan")
            before = len(await asyncio.to_thread(read_events, settings, api.topic))
            await page.click("#redrive-confirm")
            done = await page.inner_text("#redrive-done")
            await browser.close()
        after = await asyncio.to_thread(read_events, settings, api.topic)
    finally:
        drop_schemas(settings)
    assert refusals == ["Wrong name or password."] * 3
    assert throttled == "Too many failed logins; wait."
    assert len(received) == UPLOADS
    assert (shown_total, shown_new, shown_permanent) == (str(UPLOADS), str(UPLOADS - 1), "1")
    assert events == [
        "DataItemReceived",
        "BundlePlanned",
        "BundlePrepared",
        "OffsetsRecorded",
        "BundleConfirmed",
    ]
    assert item_state == "permanent"
    assert "return 1 dead letters" in " ".join(plan.split())
    assert before == UPLOADS and done.startswith("Returned 1 to their topics")
    uploaded = {e.data_item_id for e in received}
    assert [e.data_item_id for e in after if e.data_item_id not in uploaded] == ["R" * 43]
