"""Query strings of the listing endpoints: paging, sorting and deepObject filters."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from . import _validate as check
from ._wire.common import Page

if TYPE_CHECKING:
    from ._context import ClientContext

W = TypeVar("W")
T = TypeVar("T", covariant=True)


def listing_params(
    *,
    name: str | None,
    amount: int,
    page: int,
    eq: Mapping[str, str | None] | None = None,
    name_field: str = "name",
    sort: str = "-created_at",
) -> list[tuple[str, str]]:
    """``page``, ``page_size``, ``sort=-created_at``, ``name[contains]`` and ``<k>[eq]``
    (orders: ``order_name[contains]`` and ``sort=-order_date``).

    ``name[contains]`` is sent empty when there is no name (the API reads an empty value as
    "no filter"), and left out when ``name`` is None (listings without a name filter).
    """
    if page < 1:
        raise ValueError(f"page: must be >= 1, got {page}")
    params = [
        ("page", str(page)),
        ("page_size", str(amount)),
        ("sort", sort),
    ]
    if name is not None:
        params.append((f"{name_field}[contains]", name))
    params += [(f"{k}[eq]", v) for k, v in (eq or {}).items() if v is not None]
    return params


class Listing(Generic[T]):
    """One listing call: ``await`` it for one page (a list), or ``async for`` over it for every
    item from ``page`` on, fetching the following pages as needed.

        audiences = await client.audience.find_audiences("alignment")      # one page
        async for job in client.job.find_jobs("nightly", amount=100):       # all of them
            ...
    """

    def __init__(
        self,
        ctx: ClientContext,
        *,
        path: str,
        op_id: str,
        item_type: type[W],
        wrap: Callable[[W], T],
        name: str | None,
        amount: int,
        page: int,
        keep: Callable[[W], bool] | None = None,
        name_field: str = "name",
        sort: str = "-created_at",
        **eq: str | None,
    ) -> None:
        check.amount(amount)
        listing_params(name=name, amount=amount, page=page)  # checks page before any request
        self._ctx, self._path, self._op_id = ctx, path, op_id
        self._type: Any = Page[item_type]  # type: ignore[valid-type]
        self._wrap = wrap
        self._keep = keep
        self._name, self._amount, self._page, self._eq = name, amount, page, eq
        self._name_field, self._sort = name_field, sort

    async def _fetch(self, page: int) -> tuple[list[T], bool]:
        """The items of ``page`` and whether another page follows."""
        res = await self._ctx.transport.request(
            "GET",
            self._path,
            op_id=self._op_id,
            params=listing_params(
                name=self._name,
                amount=self._amount,
                page=page,
                eq=self._eq,
                name_field=self._name_field,
                sort=self._sort,
            ),
            response_type=self._type,
        )
        more = page < res.total_pages if res.total_pages else len(res.items) >= self._amount
        kept = res.items if self._keep is None else [i for i in res.items if self._keep(i)]
        return [self._wrap(item) for item in kept], more and bool(res.items)

    async def _first(self) -> list[T]:
        return (await self._fetch(self._page))[0]

    def __await__(self) -> Generator[Any, None, list[T]]:
        return self._first().__await__()

    def _not_awaited(self, what: str) -> TypeError:
        return TypeError(
            f"{what} a listing that was not awaited (find_* calls are awaited): "
            "`(await client.audience.find_audiences(...))[0]` gives one page as a list, "
            "`async for item in client.audience.find_audiences(...)` every match"
        )

    # Indexing, len() and a plain for loop would otherwise fail with Python's bare
    # "'Listing' object is not subscriptable", which does not say that `await` is missing.
    def __getitem__(self, index: Any) -> T:
        raise self._not_awaited("cannot index")

    def __len__(self) -> int:
        raise self._not_awaited("cannot take len() of")

    def __iter__(self) -> Any:
        raise self._not_awaited("cannot iterate with a plain `for` over")

    async def __aiter__(self) -> AsyncIterator[T]:
        page, more = self._page, True
        while more:
            items, more = await self._fetch(page)
            for item in items:
                yield item
            page += 1
