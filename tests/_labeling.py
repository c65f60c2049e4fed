"""A person on the labeling page over plain HTTP (no browser): cookies and form fields by
hand, redirects not followed, so each test sees every answer of the server."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from urllib.parse import urlsplit

import aiohttp
import anyio

COOKIE = "rapidata_label"
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
_ANSWERS = re.compile(r'name="answer" value="([^"]*)" class="answer[^"]*" data-answer')


@dataclass
class Page:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def fields(self) -> dict[str, str]:
        """The hidden fields of the page's forms (the last one of a name wins)."""
        return {k: unescape(v) for k, v in _HIDDEN.findall(self.text)}

    @property
    def answers(self) -> list[str]:
        """The values of the answer buttons, in page order."""
        return [unescape(v) for v in _ANSWERS.findall(self.text)]


@dataclass
class Person:
    """One browser's worth of state: the session cookie."""

    base: str
    session: aiohttp.ClientSession
    cookie: str = ""
    seen: list[Page] = field(default_factory=list)

    def _keep(self, response: aiohttp.ClientResponse) -> None:
        for header in response.headers.getall("Set-Cookie", []):
            name, _, rest = header.partition("=")
            if name == COOKIE:
                value = rest.split(";", 1)[0]
                self.cookie = "" if value in ("", '""') else value

    async def _page(self, response: aiohttp.ClientResponse) -> Page:
        self._keep(response)
        page = Page(
            response.status,
            {k.lower(): v for k, v in response.headers.items()},
            await response.text(),
        )
        self.seen.append(page)
        return page

    def _headers(self) -> dict[str, str]:
        return {"Cookie": f"{COOKIE}={self.cookie}"} if self.cookie else {}

    async def get(self, path: str) -> Page:
        async with self.session.get(
            self.base + path, headers=self._headers(), allow_redirects=False
        ) as response:
            return await self._page(response)

    async def post(self, path: str, form: dict[str, str], **headers: str) -> Page:
        async with self.session.post(
            self.base + path,
            data=form,
            headers={**self._headers(), **headers},
            allow_redirects=False,
        ) as response:
            return await self._page(response)

    async def sign_in(self, link: str) -> Page:
        """What the invite link does in a browser: open the form, send the token."""
        token = urlsplit(link).fragment
        form = await self.get("/label/join")
        return await self.post("/label/join", {"csrf": form.fields["csrf"], "token": token})

    async def task(self, deadline: float = 30.0) -> Page:
        """/label once it shows something to answer (a job's run publishes its tasks a moment
        after the job is created): polled with a deadline."""
        with anyio.fail_after(deadline):
            while True:
                page = await self.get("/label")
                assert page.status == 200, page.text
                if page.answers:
                    return page
                await anyio.sleep(0.05)

    async def answer(self, pick: int = 0) -> tuple[Page, Page]:
        """Wait for a task and click answer button ``pick``; (the task page, the POST's
        answer)."""
        page = await self.task()
        form = {**page.fields, "answer": page.answers[pick]}
        action = "/label/qualify" if "audience" in page.fields else "/label/answer"
        return page, await self.post(action, form)
