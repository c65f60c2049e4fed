"""The app pages in a real browser (headless Chromium): what a labeler would see, a job's
progress moving live while the simulated crowd answers, and a person answering jobs on the
labeling page with the keyboard."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from _poll import eventually

from rapidata_async import AsyncRapidataClient, Markdown, NoShuffle
from rapidata_async.local import LocalBackend

DEADLINE = 30.0
SPEED = 20.0

PAIRS = [
    ["**First** one", "Second one"],
    ["First two <script>window.pwned = true</script>", "Second two"],
    ["First three [click me](javascript:window.pwned=true)", "Second three"],
    ['First four <img src="x" onerror="window.pwned = true">', "Second four"],
    ["First five", "Second five [also](javascript:void(window.pwned=true))"],
]


async def _no_dialogs(page: Any) -> list[str]:
    dialogs: list[str] = []

    async def dismiss(dialog: Any) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", dismiss)
    return dialogs


async def test_preview_keeps_noshuffle_order_and_runs_no_datapoint_code(
    client: AsyncRapidataClient, browser: Any
) -> None:
    definition = await client.job.create_compare_job_definition(
        name="Preview in a browser",
        instruction="Which text reads better?",
        datapoints=PAIRS,
        data_type="text",
        settings=[NoShuffle(), Markdown()],
        contexts=[f"context {i} <b>bold?</b>" for i in range(len(PAIRS))],
    )
    url = await definition.preview()
    page = await browser.new_page()
    try:
        dialogs = await _no_dialogs(page)
        response = await page.goto(url)
        assert response is not None and response.status == 200
        assert "script-src 'self'" in (response.headers.get("content-security-policy") or "")
        assert response.headers.get("x-content-type-options") == "nosniff"
        tasks = page.locator("article.task")
        assert await tasks.count() == len(PAIRS)
        for i in range(len(PAIRS)):
            sides = tasks.nth(i).locator("figure.side")
            texts = [t.strip() for t in await sides.locator(".media").all_inner_texts()]
            assert [t.split()[0] for t in texts] == ["First", "Second"], texts
            buttons = await sides.locator("button.answer").all_inner_texts()
            assert [b.split() for b in buttons] == [["1", "A"], ["2", "B"]]
        # Markdown is rendered; the context is plain text.
        assert await tasks.nth(0).locator(".md strong").inner_text() == "First"
        assert await tasks.nth(0).locator(".context").inner_text() == "context 0 <b>bold?</b>"
        # The script and the handlers are inert text; no javascript: link is left to click.
        assert "<script>" in await tasks.nth(1).inner_text()
        assert await page.locator("a[href^='javascript' i]").count() == 0
        for link in await page.locator(".md a").all():
            await link.click(no_wait_after=True)
        assert await page.evaluate("window.pwned") is None
        assert dialogs == []
    finally:
        await page.close()


@pytest.fixture
async def paced_client() -> AsyncIterator[AsyncRapidataClient]:
    # Crowd time runs fast, but slowly enough for the page to show steps in between.
    async with LocalBackend(pace="realistic", speed=SPEED) as backend, backend.client() as opened:
        yield opened


async def test_job_view_moves_live_without_a_reload(
    paced_client: AsyncRapidataClient, browser: Any
) -> None:
    client = paced_client
    audience = (await client.audience.find_audiences("alignment"))[0]
    definition = await client.job.create_compare_job_definition(
        name="Live progress",
        instruction="Which is better?",
        datapoints=[[f"a{i}", f"b{i}"] for i in range(10)],
        data_type="text",
        responses_per_datapoint=5,
    )
    job = await audience.assign_job(definition)
    url = await job.view()
    page = await browser.new_page()
    try:
        await page.goto(url)
        await page.evaluate("window.sameDocument = true")
        seen: list[int] = []
        with anyio.fail_after(DEADLINE):
            while True:
                completed = int(await page.locator("#completed").inner_text())
                if not seen or seen[-1] != completed:
                    seen.append(completed)
                if await page.locator("#state").inner_text() == "Completed":
                    # One event sets both; it may have landed between the two reads above.
                    seen.append(int(await page.locator("#completed").inner_text()))
                    break
                await anyio.sleep(0.05)
            # The results arrive in place too, once the job is done.
            await page.locator("#results svg.chart").wait_for()
        assert seen[-1] == 10
        assert any(0 < n < 10 for n in seen), f"no progress seen between start and end: {seen}"
        assert seen == sorted(seen)  # counts never go down
        assert await page.evaluate("window.sameDocument") is True  # never reloaded
        assert await page.locator("#percent").inner_text() == "100.0 %"
        assert "pairs" in await page.locator("#results .headline").inner_text()
        rows = page.locator("#results table.results tbody tr")
        assert await rows.count() == 10
    finally:
        await page.close()


@pytest.fixture
async def human_backend(backend_options: dict[str, Any]) -> AsyncIterator[LocalBackend]:
    async with LocalBackend(crowd="human", **backend_options) as backend:
        yield backend


async def test_a_person_answers_ten_tasks_with_the_keyboard_and_the_results_hold_them(
    human_backend: LocalBackend, browser: Any
) -> None:
    async with human_backend.client() as client:
        audience = (await client.audience.find_audiences("global"))[0]
        compare = await client.job.create_compare_job_definition(
            name="People compare",
            instruction="Which text reads better?",
            datapoints=[[f"left {i}", f"right {i}"] for i in range(5)],
            data_type="text",
            responses_per_datapoint=1,
        )
        classify = await client.job.create_classification_job_definition(
            name="People classify",
            instruction="Which animal is it?",
            answer_options=["cat", "dog", "bird"],
            datapoints=[f"animal {i}" for i in range(5)],
            data_type="text",
            responses_per_datapoint=1,
        )
        jobs = [await audience.assign_job(compare), await audience.assign_job(classify)]
        board = human_backend.context.runner.board
        # Both jobs' tasks are up (else the page would show "nothing yet" and reload later).
        await eventually(lambda: all(board.open_tasks(job.id) for job in jobs), deadline=DEADLINE)
        link = await human_backend.invite_labeler("Ada")
        page = await browser.new_page()
        try:
            dialogs = await _no_dialogs(page)
            await page.goto(link)
            await page.wait_for_url("**/label")
            assert "#" not in page.url  # the token left the address bar
            chosen: dict[str, str] = {}  # item -> what the person picked
            for i in range(10):
                card = page.locator("article.task")
                await card.wait_for(timeout=DEADLINE * 1000)
                assert await card.get_attribute("data-number") == str(i + 1)
                if await card.get_attribute("data-kind") == "Compare":
                    key = str(i % 2 + 1)
                    sides = await card.locator("figure.side .media").all_inner_texts()
                    item = " | ".join(sorted(t.strip() for t in sides))
                    picked = sides[int(key) - 1].strip()
                else:
                    key = str(i % 3 + 1)
                    item = (await card.locator(".single .media").inner_text()).strip()
                    button = card.locator(f'button.answer[data-key="{key}"]')
                    picked = str(await button.get_attribute("data-answer"))
                async with page.expect_navigation():
                    await page.keyboard.press(key)
                chosen[item] = picked
            await page.locator("#idle").wait_for()
            assert dialogs == []
        finally:
            await page.close()
        compare_results = await jobs[0].get_results(timeout=DEADLINE)
        classify_results = await jobs[1].get_results(timeout=DEADLINE)
    got: dict[str, str] = {}
    for r in compare_results.results:
        assert sum(r.aggregated_results.values()) == 1  # exactly the person's answer
        got[" | ".join(sorted(r.assets))] = max(r.aggregated_results, key=r.aggregated_results.get)
    for c in classify_results.results:
        assert sum(c.aggregated_results.values()) == 1
        got[str(c.original_file_name)] = max(c.aggregated_results, key=c.aggregated_results.get)
    assert got == chosen
    assert len(chosen) == 10
