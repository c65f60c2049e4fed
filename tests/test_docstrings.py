"""Every public symbol has a docstring, and the API reference renders every one of them.

The public API is what ``__all__`` of these modules exports. A class counts as documented
when it, and every public method and property it defines (or inherits from our own code), has
a docstring; that is what the docs site's API reference shows.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path
from typing import Any

import pytest

PUBLIC_MODULES = (
    "rapidata_async",
    "rapidata_async.audience",
    "rapidata_async.flow",
    "rapidata_async.job",
    "rapidata_async.mri",
    "rapidata_async.results",
    "rapidata_async.local",
)
REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "reference"

# Values, not definitions: their docstrings sit next to the assignment in the source, which
# only the docs build reads (and ``mkdocs build --strict`` renders them).
VALUES = {
    "__version__",
    "logger",
    "rapidata_config",
    "DEFAULT_DB",
    "Oracle",
    # Literal type aliases: their docstrings sit next to them in `_types.py`.
    "AudienceStatus",
    "OrderState",
    "DataType",
    "FlowItemState",
    "JobState",
    "LevelOfDetail",
    "ParticipantStatus",
}


def _exports() -> list[tuple[str, str, Any]]:
    out = []
    for name in PUBLIC_MODULES:
        module = importlib.import_module(name)
        out.extend((name, attr, getattr(module, attr)) for attr in module.__all__)
    return out


def _has_doc(obj: Any) -> bool:
    return bool((getattr(obj, "__doc__", None) or "").strip())


def _own_members(cls: type) -> dict[str, Any]:
    """Public methods and properties of ``cls`` defined in this package (not in msgspec,
    ``Exception`` or ``object``)."""
    members: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if not klass.__module__.startswith("rapidata_async"):
            continue
        for attr, value in vars(klass).items():
            if attr.startswith("_"):
                continue
            if isinstance(value, (staticmethod, classmethod)):
                value = value.__func__
            if isinstance(value, property):
                value = value.fget
            if inspect.isfunction(value) or hasattr(value, "func"):  # functools.cached_property
                members[attr] = getattr(value, "func", value)
    return members


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_public_modules_have_a_docstring(module: str) -> None:
    assert _has_doc(importlib.import_module(module)), f"{module} has no docstring"


def test_every_public_symbol_and_member_has_a_docstring() -> None:
    missing = []
    for module, name, obj in _exports():
        if name in VALUES:
            continue
        if inspect.isclass(obj):
            if not (obj.__dict__.get("__doc__") or "").strip():
                missing.append(f"{module}.{name}")
            missing.extend(
                f"{module}.{name}.{attr}"
                for attr, member in _own_members(obj).items()
                if not _has_doc(member)
            )
        elif not _has_doc(obj):
            missing.append(f"{module}.{name}")
    assert not sorted(set(missing)), "no docstring: " + ", ".join(sorted(set(missing)))


def test_the_member_walk_sees_methods_properties_and_inherited_ones() -> None:
    from rapidata_async import AsyncRapidataClient, Job, NotFoundError

    assert {"get_results", "url", "view"} <= set(_own_members(Job))
    assert {"audience", "with_options"} <= set(_own_members(AsyncRapidataClient))
    assert "with_traceback" not in _own_members(NotFoundError)


def _resolve(path: str) -> Any:
    """The object a ``::: dotted.path`` directive renders."""
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(path)


def test_the_api_reference_renders_every_public_symbol() -> None:
    """Each exported object is the target of a ``::: path`` directive in docs/reference, or
    a member of a module rendered whole there."""
    rendered: set[int] = set()
    for page in REFERENCE.glob("*.md"):
        for path in re.findall(r"^::: ([\w.]+)\s*$", page.read_text(), re.M):
            obj = _resolve(path)
            rendered.add(id(obj))
            if inspect.ismodule(obj):
                rendered |= {id(getattr(obj, attr)) for attr in getattr(obj, "__all__", ())}
    missing = [f"{module}.{name}" for module, name, obj in _exports() if id(obj) not in rendered]
    assert not missing, "not in the API reference: " + ", ".join(missing)
