"""The one msgspec base every wire struct derives from.

Wire structs mirror the REST JSON of the Rapidata API: camelCase names on the wire, snake_case
in Python. Unknown fields are ignored on decode so that the API can grow without breaking us;
``None`` defaults are left out on encode (the API treats absent and ``null`` alike).
"""

from __future__ import annotations

import msgspec


class WireModel(msgspec.Struct, rename="camel", kw_only=True, omit_defaults=True):
    """Base of every request and response body."""


class Tagged(WireModel, tag_field="_t"):
    """Base of the polymorphic ``I…`` models: the variant is named by the ``_t`` field."""


encoder = msgspec.json.Encoder()
