"""Defaults shared by the transport, the credentials loader and the client.

They mirror what the official client does on the wire (CALLS.md §1), so a server sees the same
traffic shape from both SDKs.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    SDK_VERSION = version("rapidata-async")
except PackageNotFoundError:  # running from a source checkout that was never installed
    SDK_VERSION = "0.0.0+unknown"

DEFAULT_ENVIRONMENT = "rapidata.ai"

# Timeouts in seconds. The read timeout is the longest silence tolerated while waiting for
# bytes, not a bound on the whole call (the transport bounds an attempt by connect + read).
CONNECT_TIMEOUT = 15.0
READ_TIMEOUT = 120.0

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
