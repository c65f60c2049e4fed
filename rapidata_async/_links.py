"""Dashboard links: printed for the user, returned, opened in a browser only when asked."""

from __future__ import annotations

import anyio

from ._logging import echo


async def show_link(label: str, url: str, *, open_browser: bool) -> str:
    """Print ``label: url`` (unless ``silent_mode``), open it when asked, return ``url``."""
    echo(f"{label}: {url}")
    if open_browser:
        import webbrowser

        await anyio.to_thread.run_sync(webbrowser.open, url)
    return url
