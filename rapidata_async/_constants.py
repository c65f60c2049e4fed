"""Defaults shared by the transport, the credentials loader and the client.

They mirror what the official client does on the wire (CALLS.md §1), so a server sees the same
traffic shape from both SDKs.
"""

from __future__ import annotations

from ._version import __version__ as SDK_VERSION

DEFAULT_ENVIRONMENT = "rapidata.ai"

# Timeouts in seconds. The read timeout is the longest silence tolerated while waiting for
# bytes, not a bound on the whole call. After a timeout an attempt is repeated once at most, so
# with these defaults a server that never answers surfaces within about a minute (2 x 30 s) and
# an address nobody answers within about 20 s.
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0
TIMEOUT_RETRIES = 1
"""Repetitions of an attempt that timed out (a silent server rarely answers the third time)."""

MAX_RETRIES = 3
"""Retries after the first attempt: 4 attempts in all."""
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0
RETRY_AFTER_CAP = 60.0

MAX_CONNECTIONS = 200

TOKEN_LEEWAY = 60.0
"""A cached access token is renewed once it expires within this many seconds."""
DEFAULT_SCOPE = "openid email api"

X_CLIENT = f"RapidataAsyncSDK/{SDK_VERSION}"
DEFAULT_USER_AGENT = f"rapidata-async/{SDK_VERSION}"

TRACER_NAME = "rapidata_async"
LOGGER_NAME = "rapidata_async"

BATCH_STALL_TIMEOUT = 300.0
"""Seconds a URL batch upload may go without progress before its remaining URLs fail."""
