"""Screenshots of the app pages for the docs (``docs/screenshots/*.png``).

Run ``python benchmarks/screenshots.py`` (needs the ``web`` extra, playwright and Debian's
Chromium at /usr/bin/chromium). It starts a backend on a throwaway SQLite file (so uploaded
images are kept and served), creates a compare job definition of generated images with
contexts and Both/Neither, a classification of Markdown text in a fixed order, and a job whose
simulated crowd answers at a watchable pace, then saves:

- ``preview-compare.png``, ``preview-classification.png``: ``definition.preview()``
- ``job-running.png``, ``job-complete.png``: ``job.view()`` while it runs and once done
- ``mri-leaderboard.png``: ``leaderboard.view()`` of a second backend (instant pace): five
  models of a text benchmark once its run spent its budget, scores with their intervals
- ``label-compare.png``, ``label-classification.png``, ``label-qualification.png``: the
  labeling page of a second backend whose crowd is people (``crowd="human"``), signed in
  with an invite link: a compare task, a classification task, a custom audience's example
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import anyio

from rapidata_async import AllowNeitherBoth, Markdown, NoShuffle
from rapidata_async.local import LocalBackend

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
# Crowd seconds per wall-clock second: the job runs for a few seconds, long enough to catch.
SPEED = 30.0
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _book_scene(path: Path, small: str, large: str, sky: str) -> Path:
    """A tiny SVG picture: a small book on a large one."""
    path.write_text(
        f"""<svg xmlns="http://www.w3.org/2000/svg" width="320" height="200" viewBox="0 0 320 200">
<rect width="320" height="200" fill="{sky}"/>
<rect x="40" y="130" width="240" height="46" rx="4" fill="{large}"/>
<rect x="40" y="142" width="240" height="6" fill="#ffffff" opacity=".5"/>
<rect x="100" y="98" width="120" height="32" rx="3" fill="{small}"/>
<rect x="100" y="108" width="120" height="4" fill="#ffffff" opacity=".5"/>
</svg>""",
        encoding="utf-8",
    )
    return path


async def _shoot(browser: Any, url: str, name: str, *, full: bool = True) -> None:
    page = await browser.new_page()
    try:
        await page.goto(url)
        await page.wait_for_load_state("networkidle")
        await page.screenshot(path=str(OUT / name), full_page=full)
    finally:
        await page.close()


async def _labeling(root: Path, images: list[tuple[Path, Path]], browser: Any) -> None:
    """The labeling page as an invited person sees it."""
    async with (
        LocalBackend(db=root / "people.sqlite3", crowd="human") as backend,
        backend.client() as client,
    ):
        audience = (await client.audience.find_audiences("global"))[0]
        compare = await client.job.create_compare_job_definition(
            name="Image prompt alignment",
            instruction="Which image matches the description better?",
            datapoints=[[str(a), str(b)] for a, b in images[:1]],
            contexts=["A small blue book sitting on a large red book."],
            settings=[AllowNeitherBoth(), NoShuffle()],
            responses_per_datapoint=1,
        )
        likert = await client.job.create_classification_job_definition(
            name="Answer quality",
            instruction="How helpful is this answer?",
            answer_options=["1: Not at all", "2: Somewhat", "3: Very"],
            datapoints=["Use `git rebase -i HEAD~3` to squash the last three commits."],
            contexts=["How do I squash commits?"],
            data_type="text",
            settings=[NoShuffle(), Markdown()],
            responses_per_datapoint=1,
        )
        experts = await client.audience.create_audience("Git experts", min_tasks=3)
        for text, truth in [
            ("git commit --amend changes the last commit.", "True"),
            ("git push --force never loses work.", "False"),
            ("git stash keeps uncommitted changes aside.", "True"),
        ]:
            await experts.add_classification_example(
                "Is this statement true?", ["True", "False"], text, [truth], data_type="text"
            )
        jobs = [await audience.assign_job(definition) for definition in (compare, likert)]
        board = backend.context.runner.board
        while not all(board.open_tasks(job.id) for job in jobs):  # the runs publish them
            await board.wait_published()
        page = await browser.new_page()
        try:
            await page.goto(await backend.invite_labeler("Ada"))
            await page.locator("article.task").wait_for()
            await page.wait_for_load_state("networkidle")
            for _ in jobs:
                kind = await page.locator("article.task").get_attribute("data-kind")
                shot = "label-compare.png" if kind == "Compare" else "label-classification.png"
                await page.screenshot(path=str(OUT / shot), full_page=True)
                async with page.expect_navigation():
                    await page.keyboard.press("1")
            await page.goto(await backend.invite_labeler("Grace", [experts.id]))
            await page.locator("article.task").wait_for()
            await page.screenshot(path=str(OUT / "label-qualification.png"), full_page=True)
        finally:
            await page.close()


MODELS = ["lumen-2", "pixelforge-xl", "dreamline-1.5", "sketchy-0.9", "aurora-3"]
PROMPTS = [
    "A lighthouse on a cliff at dusk",
    "Two cats sharing a red umbrella",
    "A bowl of ramen, top view",
    "An astronaut riding a bicycle",
    "A foggy pine forest at sunrise",
    "A robot watering tomato plants",
]


async def _leaderboard(root: Path, browser: Any) -> None:
    """A benchmark of five models answered at instant pace; the leaderboard once it is done."""
    async with (
        LocalBackend(db=root / "mri.sqlite3") as backend,
        backend.client() as client,
    ):
        ids = [f"prompt-{i}" for i in range(len(PROMPTS))]
        benchmark = await client.mri.create_new_benchmark(
            name="Text-to-image alignment", identifiers=ids, prompts=PROMPTS
        )
        leaderboard = await benchmark.create_leaderboard(
            name="Prompt alignment",
            instruction="Which image matches the prompt better?",
            show_prompt=True,
            level_of_detail=600,
            min_responses_per_matchup=3,
        )
        for model in MODELS:
            media = [f"{model}: {prompt}" for prompt in PROMPTS]
            await benchmark.evaluate_model(model, media=media, identifiers=ids, data_type="text")
        async for _ in leaderboard.live_standings(interval=0.5, timeout=120):
            pass
        await _shoot(browser, await leaderboard.view(), "mri-leaderboard.png", full=False)


async def main() -> None:
    from playwright.async_api import async_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        images = [
            (
                _book_scene(root / f"model-a-{i}.svg", "#2f6fdf", "#d33b3b", "#eef3fb"),
                _book_scene(root / f"model-b-{i}.svg", "#d33b3b", "#2f6fdf", "#fbf3ee"),
            )
            for i in range(2)
        ]
        async with (
            LocalBackend(db=root / "shots.sqlite3", pace="realistic", speed=SPEED) as backend,
            backend.client() as client,
        ):
            audience = (await client.audience.find_audiences("alignment"))[0]
            compare = await client.job.create_compare_job_definition(
                name="Image prompt alignment",
                instruction="Which image matches the description better?",
                datapoints=[[str(a), str(b)] for a, b in images],
                contexts=[
                    "A small blue book sitting on a large red book.",
                    "A small red book sitting on a large blue book.",
                ],
                settings=[AllowNeitherBoth()],
                responses_per_datapoint=3,
            )
            likert = await client.job.create_classification_job_definition(
                name="Answer quality",
                instruction="How helpful is this answer?",
                answer_options=["1: Not at all", "2: Somewhat", "3: Very"],
                datapoints=[
                    "**Boil** the water, then add the pasta and *stir*.\n\n"
                    "1. Salt the water\n2. Cook for 9 minutes",
                    "Use `git rebase -i HEAD~3` to squash the last three commits.",
                ],
                contexts=["How do I cook pasta?", "How do I squash commits?"],
                data_type="text",
                settings=[NoShuffle(), Markdown()],
                responses_per_datapoint=3,
            )
            ranking = await client.job.create_compare_job_definition(
                name="Which caption is better?",
                instruction="Which caption describes a sunset over the sea better?",
                datapoints=[
                    [f"caption {i} of model A", f"caption {i} of model B"] for i in range(16)
                ],
                data_type="text",
                responses_per_datapoint=5,
            )
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch_persistent_context(
                    str(root / "profile"),
                    executable_path=CHROMIUM,
                    headless=True,
                    args=ARGS,
                    viewport={"width": 1000, "height": 700},
                )
                try:
                    await _shoot(browser, await compare.preview(), "preview-compare.png")
                    await _shoot(browser, await likert.preview(), "preview-classification.png")
                    job = await audience.assign_job(ranking)
                    page = await browser.new_page()
                    await page.goto(await job.view())
                    await page.wait_for_function(
                        "() => Number(document.getElementById('completed').textContent) >= 5",
                        timeout=60_000,
                    )
                    await page.screenshot(path=str(OUT / "job-running.png"))
                    await page.locator("#results svg.chart").wait_for(timeout=60_000)
                    await page.screenshot(path=str(OUT / "job-complete.png"), full_page=True)
                    await page.close()
                    await _leaderboard(root, browser)
                    await _labeling(root, images, browser)
                finally:
                    await browser.close()
    for png in sorted(OUT.glob("*.png")):
        print(f"{png.name}: {png.stat().st_size // 1024} KB")


if __name__ == "__main__":
    anyio.run(main)
