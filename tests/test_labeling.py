"""The labeling page over plain HTTP, on a backend whose crowd is people only: no access
without an invite, CSRF, the security headers, tenants apart, qualification, the owner API
and command, and tasks that go back to the board when nobody answers them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest
from _labeling import Person
from test_tenants import raw_for

from rapidata_async import AsyncRapidataClient
from rapidata_async.__main__ import main
from rapidata_async.local import LocalBackend
from rapidata_async.local.crowd.base import OpenWork, TaskBoard
from rapidata_async.local.crowd.people import People, grade, trial_order
from rapidata_async.local.crowd.people import Person as Labeler
from rapidata_async.local.domain.tasks import ExampleSpec, TaskSpec

HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy")


@pytest.fixture(scope="module")
async def human_backend(
    module_backend_options: dict[str, Any],
) -> AsyncIterator[LocalBackend]:
    async with LocalBackend(crowd="human", **module_backend_options) as backend:
        yield backend


@pytest.fixture
async def people(human_backend: LocalBackend) -> AsyncIterator[LocalBackend]:
    await human_backend.reset()
    yield human_backend


@pytest.fixture
async def owner(people: LocalBackend) -> AsyncIterator[AsyncRapidataClient]:
    async with people.client() as client:
        yield client


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _job(client: AsyncRapidataClient, n: int = 3, name: str = "Pick") -> Any:
    audience = (await client.audience.find_audiences("global"))[0]
    definition = await client.job.create_classification_job_definition(
        name=name,
        instruction="Is it a fruit?",
        answer_options=["yes", "no"],
        datapoints=[f"{name} item {i}" for i in range(n)],
        data_type="text",
        responses_per_datapoint=1,
    )
    return await audience.assign_job(definition)


async def test_without_an_invite_there_is_no_access(
    people: LocalBackend, owner: AsyncRapidataClient, http: aiohttp.ClientSession
) -> None:
    await _job(owner)
    stranger = Person(people.url, http)
    page = await stranger.get("/label")
    assert page.status == 401
    assert "invite" in page.text and "Is it a fruit?" not in page.text
    # A forged or tampered cookie is no session either.
    stranger.cookie = "eyJzdWIiOiJ4In0.bm90LWEtc2lnbmF0dXJl"
    assert (await stranger.get("/label")).status == 401
    # A wrong token, a made-up labeler, an empty one: refused, no session.
    for token in ("nope", "0123456789abcdef01234567.wrong-secret", ""):
        stranger.cookie = ""
        page = await stranger.sign_in(f"{people.url}/label/join#{token}")
        assert page.status == 403, token
        assert (await stranger.get("/label")).status == 401
    # A real person's token with a secret changed in one place.
    link = await people.invite_labeler("Ada")
    labeler_id, secret = link.split("#")[1].split(".")
    forged = f"{labeler_id}.{secret[:-1]}{'A' if secret[-1] != 'A' else 'B'}"
    assert (await stranger.sign_in(f"{people.url}/label/join#{forged}")).status == 403
    # Answering without a session is refused too.
    page = await stranger.post("/label/answer", {"csrf": "x", "job": "j", "answer": "yes"})
    assert page.status == 403


async def test_answers_need_the_sessions_csrf_token(
    people: LocalBackend, owner: AsyncRapidataClient, http: aiohttp.ClientSession
) -> None:
    job = await _job(owner, n=1)
    ada, bob = Person(people.url, http), Person(people.url, http)
    assert (await ada.sign_in(await people.invite_labeler("Ada"))).status == 303
    assert (await bob.sign_in(await people.invite_labeler("Bob"))).status == 303
    page = await ada.task()
    form = {**page.fields, "answer": page.answers[0]}
    bobs_token = (await bob.get("/label")).fields["csrf"]
    for bad in (
        {**form, "csrf": ""},
        {key: value for key, value in form.items() if key != "csrf"},
        {**form, "csrf": form["csrf"][:-1] + ("A" if form["csrf"][-1] != "A" else "B")},
        {**form, "csrf": bobs_token},  # another session's token
    ):
        assert (await ada.post("/label/answer", bad)).status == 403
    # The right token from a page of another site (a cross-site form post).
    assert (await ada.post("/label/answer", form, Origin="https://evil.example")).status == 403
    # The sign-in form is protected the same way.
    join = await Person(people.url, http).post("/label/join", {"csrf": "", "token": "x.y"})
    assert join.status == 403
    assert (await job.get_progress()).completion_percentage == 0
    # Meanwhile the job view says what the job waits for.
    with anyio.fail_after(15):
        while True:
            view = await bob.get(f"/audiences/global/job/{job.id}")
            if "waiting for people" in view.text:
                break
            await anyio.sleep(0.1)
    assert (await ada.post("/label/answer", form)).status == 303
    assert (await job.get_results(timeout=30)).results[0].aggregated_results[form["answer"]] == 1


async def test_every_page_and_answer_carries_the_security_headers(
    people: LocalBackend, owner: AsyncRapidataClient, http: aiohttp.ClientSession
) -> None:
    await _job(owner, n=1)
    ada = Person(people.url, http)
    pages = [await ada.get("/label"), await ada.get("/label/join")]
    pages.append(await ada.sign_in(await people.invite_labeler("Ada")))
    pages.append(await ada.task())
    pages.append(await ada.post("/label/answer", {"csrf": "forged"}))
    pages.append(await ada.get("/label/nope"))
    pages.append(await ada.get("/_local/labelers"))  # the API's 401
    for page in pages:
        assert all(h in page.headers for h in HEADERS), page.headers
        assert page.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert [p.status for p in pages] == [401, 200, 303, 200, 403, 404, 401]
    cookie = pages[2].headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" in cookie


async def test_a_person_sees_only_the_jobs_of_the_tenant_that_invited_them(
    people: LocalBackend, owner: AsyncRapidataClient, http: aiohttp.ClientSession
) -> None:
    other_credential = await people.create_client()
    async with people.client(credential=other_credential) as other:
        await _job(other, n=2, name="Other")
    other_tenant = await people.context.clients.tenant_of(other_credential[0])
    mine = await _job(owner, n=2, name="Mine")
    ada = Person(people.url, http)
    await ada.sign_in(await people.invite_labeler("Ada"))
    for _ in range(2):
        page, answered = await ada.answer()
        assert "Mine item" in page.text and "Other item" not in page.text
        assert answered.status == 303
    await mine.get_results(timeout=30)
    # The other tenant's own person gets the other job's tasks: they are on the board, and
    # one is still open after Bob's answer, yet Ada has nothing to do.
    bob = Person(people.url, http)
    await bob.sign_in(await people.invite_labeler("Bob", tenant=other_tenant))
    page, _ = await bob.answer()
    assert "Other item" in page.text
    idle = await ada.get("/label")
    assert "Nothing to answer" in idle.text and "Other item" not in idle.text


async def test_a_custom_audience_takes_people_who_pass_its_examples(
    people: LocalBackend, owner: AsyncRapidataClient, http: aiohttp.ClientSession
) -> None:
    audience = await owner.audience.create_audience("Fruit experts", min_tasks=4)
    truths = {"apple": "yes", "stone": "no", "pear": "yes"}
    for item, truth in truths.items():
        await audience.add_classification_example(
            "Is it a fruit?", ["yes", "no"], item, [truth], data_type="text"
        )
    definition = await owner.job.create_classification_job_definition(
        name="Experts only",
        instruction="Is it a fruit?",
        answer_options=["yes", "no"],
        datapoints=["plum", "fig"],
        data_type="text",
        responses_per_datapoint=1,
    )
    job = await audience.assign_job(definition)
    expert, novice = Person(people.url, http), Person(people.url, http)
    await expert.sign_in(await people.invite_labeler("Expert", [audience.id]))
    await novice.sign_in(await people.invite_labeler("Novice", [audience.id]))
    for person, right in ((expert, True), (novice, False)):
        for step in range(4):
            page = await person.get("/label")
            assert "Qualification: Fruit experts" in page.text
            assert f"Example {step + 1} of 4" in page.text
            item = next(i for i in truths if f">{i}<" in page.text)
            pick = truths[item] if right else ("no" if truths[item] == "yes" else "yes")
            answer = await person.post("/label/qualify", {**page.fields, "answer": pick})
            assert answer.status == 303
        assert answer.headers["location"] == f"/label?notice={'passed' if right else 'failed'}"
    # The graduate gets the audience's tasks; the novice, with one of them still open, none.
    first = await expert.task()
    assert "Nothing to answer" in (await novice.get("/label")).text
    await expert.post("/label/answer", {**first.fields, "answer": "yes"})
    await expert.answer(0)
    results = await job.get_results(timeout=30)
    assert [sum(r.aggregated_results.values()) for r in results.results] == [1, 1]
    tenant = await people.context.clients.tenant_of(people.client_id)
    assert tenant is not None
    rows = {r.name: r for r in await people.store.labelers.list(owner=tenant)}
    assert rows["Expert"].qualifications[audience.id][0] == "Graduated"
    assert rows["Novice"].qualifications[audience.id][0] == "Dropped"


async def test_the_owner_invites_through_the_api_and_no_one_else_can(
    people: LocalBackend, http: aiohttp.ClientSession
) -> None:
    raw = await raw_for(http, people.url, (people.client_id, people.client_secret))
    status, body = await raw.call("POST", "/_local/labelers", json={"name": "Ada"})
    assert status == 201, body
    assert body["inviteUrl"] == f"{people.url}/label/join#{body['token']}"
    assert body["audiences"] == ["global"]
    status, body = await raw.call("POST", "/_local/labelers", json={"name": " "})
    assert status == 400 and "name" in body["errors"]
    status, body = await raw.call(
        "POST", "/_local/labelers", json={"name": "Bob", "audiences": ["global", "nope"]}
    )
    assert status == 404 and "audiences[1]" in body["errors"]
    status, body = await raw.call("GET", "/_local/labelers")
    assert [item["name"] for item in body["items"]] == ["Ada"]
    assert "token" not in body["items"][0]
    # Another tenant sees none of them; no token, no invite.
    other = await raw_for(http, people.url, await people.create_client())
    assert (await other.call("GET", "/_local/labelers"))[1]["items"] == []
    async with http.post(people.url + "/_local/labelers", json={"name": "Eve"}) as response:
        assert response.status == 401


async def test_with_the_simulated_crowd_the_page_says_people_are_not_asked(
    http: aiohttp.ClientSession,
) -> None:
    async with LocalBackend() as backend:  # crowd="simulated"
        ada = Person(backend.url, http)
        assert (await ada.sign_in(await backend.invite_labeler("Ada"))).status == 303
        page = await ada.get("/label")
    assert page.status == 200 and "simulated crowd only" in page.text
    with pytest.raises(ValueError, match="crowd must be one of"):
        LocalBackend(crowd="robots")


async def test_in_mixed_mode_the_simulated_crowd_fills_in_beside_people(
    http: aiohttp.ClientSession,
) -> None:
    async with LocalBackend(crowd="mixed") as backend, backend.client() as client:
        ada = Person(backend.url, http)
        await ada.sign_in(await backend.invite_labeler("Ada"))
        page = await ada.get("/label")
        assert "simulated crowd only" not in page.text
        # Nobody answers on the page, yet the job completes: the crowd answered it.
        results = await (await _job(client, n=3)).get_results(timeout=30)
    assert [sum(r.aggregated_results.values()) for r in results.results] == [1, 1, 1]


async def test_a_task_nobody_answers_in_time_goes_to_someone_else() -> None:
    board = TaskBoard()
    task = TaskSpec("k", "classify", ["yes", "no"])
    stream = board.publish("job", "global", [OpenWork("dp", task, frozenset(), 1)], tenant="t")
    people = People(board, hold_seconds=-1.0)  # every hold has run out at once
    ada = Labeler("human:ada", "t", {"global": 0.75})
    bob = Labeler("human:bob", "t", {"global": 0.75})
    stranger = Labeler("human:eve", "other", {"global": 0.75})
    taken = people.take(ada)
    assert taken is not None and taken[0].datapoint_id == "dp"
    assert people.take(bob) is None  # room for one answer: Ada holds it
    assert people.expire() == 1
    assert people.take(stranger) is None  # another tenant's job
    assert people.take(bob) is not None
    # Ada's late answer is refused; Bob's is on the job's stream.
    assert not await people.answer(ada, "job", "dp", "yes")
    assert await people.answer(bob, "job", "dp", "no")
    [response] = stream.receive_batch_nowait()
    assert (response.labeler_id, response.answer) == ("human:bob", "no")


def test_qualification_is_graded_like_the_simulated_crowds() -> None:
    examples = [ExampleSpec("classify", ["yes", "no"], ["yes"], f"a:{i}") for i in range(3)]
    order = trial_order(3, 5, "seed")
    assert len(order) == 5 and set(order) == {0, 1, 2}
    # Harder examples weigh more: right on the hard one passes, right on the easy ones not.
    difficulties = [0.0, 0.0, 1.0]
    assert grade(examples, difficulties, [(2, "yes"), (0, "no")], 0.6) == (True, 0.75)
    assert grade(examples, difficulties, [(0, "yes"), (1, "yes"), (2, "no")], 0.6)[0] is False


@pytest.mark.sqlite_only
async def test_the_labelers_command_invites_and_lists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "local.sqlite3")

    async def run(*args: str) -> int:
        return await anyio.to_thread.run_sync(main, list(args))

    assert await run("labelers", "invite", "--db", db, "--name", "Ada") == 1
    assert "no client" in capsys.readouterr().err
    assert await run("clients", "create", "--db", db) == 0
    capsys.readouterr()
    assert await run("labelers", "invite", "--db", db, "--name", "Ada", "--url", "http://h:1") == 0
    link = re.search(r"invite link: (\S+)", capsys.readouterr().out)
    assert link is not None and link.group(1).startswith("http://h:1/label/join#")
    assert await run("labelers", "invite", "--db", db, "--name", "Bob", "--audience", "x") == 1
    assert "Audience 'x' does not exist" in capsys.readouterr().err
    assert await run("labelers", "list", "--db", db) == 0
    assert "Ada" in capsys.readouterr().out
    assert await run("labelers", "invite", "--db", db) == 2
