"""Query strings of the listing endpoints: paging, sorting and deepObject filters."""

from __future__ import annotations


def listing_params(
    *, name: str, amount: int, page: int, name_key: str = "name", **eq: str | None
) -> list[tuple[str, str]]:
    """``page``, ``page_size``, ``sort=-created_at``, ``<name_key>[contains]`` and ``<k>[eq]``.

    ``name[contains]`` is always sent, empty when there is no name: the API reads an empty
    value as "no filter".
    """
    if page < 1:
        raise ValueError(f"page: must be >= 1, got {page}")
    params = [
        ("page", str(page)),
        ("page_size", str(amount)),
        ("sort", "-created_at"),
        (f"{name_key}[contains]", name),
    ]
    params += [(f"{k}[eq]", v) for k, v in eq.items() if v is not None]
    return params
