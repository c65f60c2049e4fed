"""The app pages a browser opens: definition previews, job views, MRI views.

Server-rendered with Jinja2 templates, a little vanilla JavaScript served from ``/static`` and
no build step. The pages need the ``web`` extra (Jinja2, markdown-it-py, nh3); without it the
backend still serves the API and answers the page URLs with a note naming the extra::

    app.add_routes(page_routes())

Routes (CALLS.md section 11, no token: a browser opens them):

- ``GET /definitions/{definitionId}``: each datapoint as a labeler sees it
- ``GET /audiences/{audienceId}/job/{jobId}``: progress, live over server-sent events
  (``.../events``), and the results once complete (``.../results``, an HTML fragment)
- ``GET /mri/benchmarks/{benchmarkId}`` and ``.../leaderboard/{leaderboardId}``
- ``GET /media/{name}``: an uploaded file, for the pages' players
- ``/label`` (and ``/label/join``...): people answer tasks, signed in with an invite

``security_headers`` is the app's outermost middleware: every answer, page or API, leaves
with a Content-Security-Policy, ``X-Content-Type-Options``, ``Referrer-Policy`` and
``X-Frame-Options``.
"""

from __future__ import annotations

from aiohttp import web

from ._headers import security_headers
from ._missing import INSTALL_HINT, missing_modules, missing_routes

__all__ = ["INSTALL_HINT", "missing_modules", "page_routes", "security_headers"]


def page_routes() -> web.RouteTableDef:
    """The pages' routes, or, without the ``web`` extra, routes that say how to get it."""
    if missing_modules():
        return missing_routes()
    from ._routes import routes

    return routes
