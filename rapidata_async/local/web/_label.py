"""``/label``: people answer tasks in the browser (a second response source beside the
simulated crowd, ``crowd.people``).

- ``GET /label/join``: the sign-in form; the invite link (``/label/join#<token>``) fills it in
  and sends it (``label.js``). ``POST /label/join`` checks the token against its stored hash
  and starts a session (``_session``: signed cookie, HttpOnly, SameSite=Strict).
- ``GET /label``: the person's next task: first the examples of a custom audience they were
  invited to and have not qualified for yet, then the open tasks of the owner's jobs on their
  audiences (the global one always). Rendered with the preview's task cards; answered by mouse
  or number keys.
- ``POST /label/answer``, ``/label/qualify``: one answer (form fields ``csrf``, the task's ids,
  ``answer``); ``POST /label/leave`` signs out.

Nothing here is reachable without a session from a valid invite; every POST needs the
session's CSRF token. A person sees only jobs of the tenant that invited them.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from .._context import ctx
from .._http import read_body
from .._labelers import GLOBAL_AUDIENCE, JOIN_PATH, check_invite
from ..crowd.people import PERSON_SCORE, Person, labeler_key
from ..crowd.population import BOTH, NEITHER
from ..domain.errors import NotFound
from ..domain.tasks import Rapid, rapid_of
from ..store.base import ANY_OWNER, DatapointRow, LabelerRow
from . import _qualify
from ._preview import Settings, side_labels, tasks_of
from ._render import page, render, secure
from ._session import Session, Sessions

FORM_BYTES = 4096
IDLE_REFRESH_SECONDS = 3
LAYOUTS = "label-layouts"
LAYOUT_CACHE = 32
NOTICES = {
    "late": "That task had timed out and went to someone else; here is the next one.",
    "passed": "You passed the qualification: its audience's tasks come to you now.",
    "failed": "You did not pass the qualification; that audience's tasks will not come to you.",
}


@dataclass(frozen=True, slots=True)
class Layout:
    """What renders a job's tasks: its rapid, its settings, its datapoints by id."""

    rapid: Rapid
    settings: Settings
    datapoints: dict[str, DatapointRow]


async def _layout(request: web.Request, job_id: str) -> Layout:
    cache: OrderedDict[str, Layout] = ctx(request).pages.setdefault(LAYOUTS, OrderedDict())
    found = cache.get(job_id)
    if found is not None:
        cache.move_to_end(job_id)
        return found
    store = ctx(request).store
    job = await store.jobs.get(job_id, owner=ANY_OWNER)
    revision = await store.definitions.revision(
        job.definition_id, job.revision_number, owner=ANY_OWNER
    )
    rapid = rapid_of(revision.body.workflow)
    if rapid is None:  # a job without a rapid never reaches the board
        raise NotFound("Job", job_id)
    rows = await store.datasets.datapoints(revision.body.dataset_id, owner=ANY_OWNER)
    layout = Layout(
        rapid, Settings.of(revision.body.rapid_feature_flags), {dp.id: dp for dp in rows}
    )
    cache[job_id] = layout
    while len(cache) > LAYOUT_CACHE:
        cache.popitem(last=False)
    return layout


async def _form(request: web.Request) -> dict[str, str]:
    raw = await read_body(request, FORM_BYTES)
    return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))


def _redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def _forbidden(detail: str) -> web.Response:
    return page("not_found.html", status=403, title="Not allowed", detail=detail)


async def _signed_in(request: web.Request) -> tuple[Session, LabelerRow] | None:
    session = Sessions.of(request).read(request)
    if session is None or session.labeler is None:
        return None
    found = await ctx(request).store.labelers.get(session.labeler)
    return None if found is None else (session, found[0])


async def _person(request: web.Request, row: LabelerRow) -> Person:
    """Who answers, with a user score per audience they belong to."""
    scores = {GLOBAL_AUDIENCE: PERSON_SCORE}
    for audience_id in row.audiences:
        outcome = row.qualifications.get(audience_id)
        if outcome is not None:
            if outcome[0] == "Graduated":
                scores[audience_id] = outcome[1]
            continue
        try:
            audience = await ctx(request).store.audiences.get(audience_id, owner=row.owner)
        except NotFound:
            continue
        if audience.kind == "curated":
            scores[audience_id] = PERSON_SCORE
    return Person(labeler_key(row.id), row.owner, scores)


# -- signing in ----------------------------------------------------------------------------------
async def join_page(request: web.Request) -> web.Response:
    """The sign-in form, with a session of its own for its CSRF token."""
    sessions = Sessions.of(request)
    response = secure(web.Response(content_type="text/html"))
    session = sessions.start(request, response, None)
    response.text = render(
        "join.html", title="Sign in to label", csrf=sessions.csrf(session), detail=""
    )
    return response


async def join(request: web.Request) -> web.Response:
    sessions = Sessions.of(request)
    form = await _form(request)
    if not sessions.check_post(request, sessions.read(request), form.get("csrf", "")):
        return _forbidden("The form expired or came from another site; open the invite again.")
    row = await check_invite(ctx(request).store, form.get("token", ""))
    if row is None:
        return _forbidden("This invite is not valid. Ask the owner of the backend for a new one.")
    response = _redirect("/label")
    sessions.start(request, response, row.id)
    return response


async def leave(request: web.Request) -> web.Response:
    sessions = Sessions.of(request)
    form = await _form(request)
    if not sessions.check_post(request, sessions.read(request), form.get("csrf", "")):
        return _forbidden("The form expired or came from another site.")
    response = _redirect(JOIN_PATH)
    sessions.end(response)
    return response


# -- the work ------------------------------------------------------------------------------------
def _view(
    request: web.Request, session: Session, row: LabelerRow, **values: object
) -> web.Response:
    engine = ctx(request).runner
    defaults: dict[str, Any] = {
        "title": "Labeling",
        "name": row.name,
        "answered": engine.people.answered[labeler_key(row.id)],
        "csrf": Sessions.of(request).csrf(session),
        "notice": NOTICES.get(request.query.get("notice", ""), ""),
        "refresh": 0,
        "task": None,
        "intro": "",
        "idle": "",
        "action": "",
        "fields": [],
    }
    return page("label.html", **{**defaults, **values})


async def label_page(request: web.Request) -> web.Response:
    signed_in = await _signed_in(request)
    if signed_in is None:
        return page(
            "join.html",
            status=401,
            title="Sign in to label",
            csrf="",
            detail="Open the invite link you were given to sign in.",
        )
    session, row = signed_in
    engine = ctx(request).runner
    if not engine.takes_people:
        return _view(
            request,
            session,
            row,
            idle="This backend answers its jobs with the simulated crowd only; start it with "
            "--crowd human or --crowd mixed to label here.",
        )
    item = await _qualify.pending(request, row)
    if item is not None:
        return _view(
            request,
            session,
            row,
            title=f"Qualification: {item.audience.name}",
            intro=f"Example {item.step + 1} of {len(item.order)}: answer these to join the "
            f"audience '{item.audience.name}'.",
            task=await _qualify.example_view(request, item),
            action="/label/qualify",
            fields=[("audience", item.audience.id), ("step", str(item.step))],
        )
    got = engine.people.take(await _person(request, row))
    if got is None:
        return _view(
            request,
            session,
            row,
            refresh=IDLE_REFRESH_SECONDS,
            idle="Nothing to answer right now. This page looks again every few seconds.",
        )
    task, _ = got
    layout = await _layout(request, task.job_id)
    dp = layout.datapoints.get(task.datapoint_id)
    if dp is None:  # a layout cached before the datapoint existed: read it again
        ctx(request).pages[LAYOUTS].pop(task.job_id, None)
        dp = (await _layout(request, task.job_id)).datapoints[task.datapoint_id]
    [card] = await tasks_of(request, [dp], layout.rapid, layout.settings)
    card.number = engine.people.answered[labeler_key(row.id)] + 1
    return _view(
        request,
        session,
        row,
        task=card,
        action="/label/answer",
        fields=[("job", task.job_id), ("datapoint", task.datapoint_id)],
    )


def _meaning(layout: Layout, options: list[str], unsure: bool, answer: str) -> str | None:
    """The stored answer a clicked button stands for (None: not an answer of this task)."""
    if unsure and answer in (BOTH, NEITHER):
        return answer
    if layout.rapid.kind == "Compare":
        labels = side_labels(layout.rapid.index_identifiers, len(options))
        return options[labels.index(answer)] if answer in labels[: len(options)] else None
    return answer if answer in options else None


async def _signed_post(request: web.Request) -> tuple[dict[str, str], LabelerRow] | web.Response:
    """The form of a signed-in person's POST with its CSRF token right, else the 403 page."""
    form = await _form(request)
    signed_in = await _signed_in(request)
    session = signed_in[0] if signed_in is not None else None
    if signed_in is None or not Sessions.of(request).check_post(
        request, session, form.get("csrf", "")
    ):
        return _forbidden("Sign in with your invite link; the form expired or came from elsewhere.")
    return form, signed_in[1]


def _not_an_answer() -> web.Response:
    return page(
        "not_found.html", status=400, title="Not an answer", detail="Pick one of the answers."
    )


async def answer(request: web.Request) -> web.Response:
    posted = await _signed_post(request)
    if isinstance(posted, web.Response):
        return posted
    form, row = posted
    people = ctx(request).runner.people
    key = labeler_key(row.id)
    held = people.holding(key)
    job_id, datapoint_id = form.get("job", ""), form.get("datapoint", "")
    if held is None or (held.job_id, held.datapoint_id) != (job_id, datapoint_id):
        return _redirect("/label?notice=late")
    layout = await _layout(request, job_id)
    meaning = _meaning(
        layout, held.task.options, held.task.allow_neither_both, form.get("answer", "")
    )
    if meaning is None:
        return _not_an_answer()
    person = await _person(request, row)
    if not await people.answer(person, job_id, datapoint_id, meaning):
        return _redirect("/label?notice=late")
    return _redirect("/label")


async def qualify(request: web.Request) -> web.Response:
    posted = await _signed_post(request)
    if isinstance(posted, web.Response):
        return posted
    form, row = posted
    item = await _qualify.pending(request, row)
    if (
        item is None
        or item.audience.id != form.get("audience")
        or str(item.step) != form.get("step")
    ):
        return _redirect("/label")  # answered already (a second click), or nothing pending
    meaning = _qualify.example_answer(item, form.get("answer", ""))
    if meaning is None:
        return _not_an_answer()
    state = await _qualify.record(request, row, item, meaning)
    if state is None:
        return _redirect("/label")
    return _redirect(f"/label?notice={'passed' if state == 'Graduated' else 'failed'}")
