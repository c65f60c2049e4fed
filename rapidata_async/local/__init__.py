"""The embedded local backend: the Rapidata API, its token endpoint and app pages, served by
aiohttp over SQLite with a simulated crowd, so everything runs offline::

    from rapidata_async.local import LocalBackend

    async with LocalBackend() as backend:
        async with backend.client() as client:
            audience = (await client.audience.find_audiences("alignment"))[0]
"""

from ._app import DEFAULT_DB, LocalBackend, create_app
from ._serve import serve_forever
from .crowd.population import Oracle
from .domain.tasks import TaskSpec

__all__ = ["DEFAULT_DB", "LocalBackend", "Oracle", "TaskSpec", "create_app", "serve_forever"]
