"""The docs' "Complete Example", run against an embedded local backend.

``python -m rapidata_async quickstart`` starts the backend in-process (in-memory SQLite, a crowd
that answers at a visible pace: crowd time runs ``speed`` times faster than the clock), then
runs the very calls a user would make against the real service.
"""

from __future__ import annotations

import anyio

from ._config import rapidata_config
from .local import LocalBackend


async def quickstart(speed: float = 60.0) -> None:
    # A demonstration prints what it does even when its output is piped.
    if rapidata_config.logging.show_output is None:
        rapidata_config.logging.show_output = True
    async with LocalBackend(pace="realistic", speed=speed) as backend:
        print(f"Local Rapidata backend at {backend.url}")
        async with backend.client() as client:
            # Get the curated alignment audience
            audience = (await client.audience.find_audiences("alignment"))[0]

            # Create job definition
            job_definition = await client.job.create_compare_job_definition(
                name="Example Image Prompt Alignment",
                instruction="Which image matches the description better?",
                datapoints=[
                    [
                        "https://assets.rapidata.ai/midjourney-5.2_37_3.jpg",
                        "https://assets.rapidata.ai/flux-1-pro_37_0.jpg",
                    ]
                ],
                contexts=["A small blue book sitting on a large red book."],
            )

            # Preview before running
            await job_definition.preview()

            # Assign to audience and get results
            job = await audience.assign_job(job_definition)
            await job.display_progress_bar()
            results = await job.get_results()
            print(results)


def main(speed: float = 60.0) -> None:
    anyio.run(quickstart, speed)
