"""What the pages answer when the ``web`` extra is not installed: a note naming it."""

from __future__ import annotations

import importlib.util

from aiohttp import web

from .._http import public

# Import names of the ``web`` extra's packages.
WEB_MODULES = ("jinja2", "markdown_it", "nh3")
INSTALL_HINT = "pip install 'rapidata-async[web]'"


def missing_modules() -> list[str]:
    """The ``web`` extra's modules that cannot be imported here."""
    return [name for name in WEB_MODULES if importlib.util.find_spec(name) is None]


def missing_routes() -> web.RouteTableDef:
    routes = web.RouteTableDef()

    @public
    async def note(request: web.Request) -> web.Response:
        return web.Response(
            status=501,
            text=f"The app pages need the 'web' extra ({', '.join(missing_modules())} "
            f"missing): {INSTALL_HINT}\n",
            headers={"X-Content-Type-Options": "nosniff"},
        )

    for path in (
        "/",
        "/definitions/{definitionId}",
        "/audiences/{audienceId}/job/{jobId}",
        "/mri/benchmarks/{benchmarkId}",
        "/mri/benchmarks/{benchmarkId}/leaderboard/{leaderboardId}",
        "/label",
        "/label/join",
    ):
        routes.get(path)(note)
    return routes
