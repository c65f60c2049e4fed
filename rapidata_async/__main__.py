"""The command line: ``rapidata-async serve | clients | labelers | quickstart`` (also
``python -m rapidata_async``)."""

from __future__ import annotations

import argparse
import os
import sys

from ._version import __version__


def _program_name() -> str:
    # argparse would show "__main__.py" for `python -m rapidata_async`.
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return "python -m rapidata_async" if name in ("", "__main__.py", "-c") else name


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command and option, with help and defaults."""
    fmt = argparse.ArgumentDefaultsHelpFormatter
    parser = argparse.ArgumentParser(
        prog=_program_name(),
        description="Rapidata async SDK: run the local backend or the docs' example offline.",
        formatter_class=fmt,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser(
        "serve",
        help="run the local Rapidata backend until Ctrl-C",
        description="Serve the Rapidata API locally (SQLite, simulated crowd) until Ctrl-C; "
        "prints the URL and the client credential to connect with.",
        formatter_class=fmt,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (0: any free)")
    serve.add_argument(
        "--db",
        default="rapidata-local.sqlite3",
        help="SQLite file (':memory:' for a throwaway backend) or a postgresql:// URL "
        "(pip install 'rapidata-async[postgres]'; several processes may share one database)",
    )
    serve.add_argument(
        "--assets-dir",
        help="where uploaded files go (default: <db>_assets beside a SQLite file, "
        "./rapidata-local-assets for PostgreSQL; share it between processes of one database)",
    )
    serve.add_argument(
        "--pace",
        choices=("realistic", "instant"),
        default="realistic",
        help="how the simulated crowd's time passes (instant: no waiting at all)",
    )
    serve.add_argument(
        "--speed",
        type=float,
        default=60.0,
        help="realistic pace: crowd seconds per wall-clock second",
    )
    serve.add_argument("--seed", type=int, default=0, help="seed of the simulated crowd")
    serve.add_argument(
        "--fetch-urls", action="store_true", help="download URL assets instead of recording them"
    )
    serve.add_argument(
        "--allow-private-urls",
        action="store_true",
        help="with --fetch-urls: also fetch loopback and private addresses",
    )
    serve.add_argument("--tls-cert", help="PEM certificate (chain): serve https")
    serve.add_argument("--tls-key", help="PEM private key of --tls-cert")
    serve.add_argument(
        "--max-upload-mb",
        type=float,
        default=100.0,
        help="largest file POST /asset/file accepts, in MB (larger ones get 413)",
    )
    serve.add_argument(
        "--lease-ttl",
        type=_positive,
        default=10.0,
        help="seconds before the work (jobs, recruiting, URL batches) of a process that "
        "stopped answering goes to another process of the same database",
    )
    serve.add_argument(
        "--key-file",
        help="token-signing key file (created 0600 when missing; default: <db>.key beside a "
        "SQLite file, <assets-dir>/signing.key for PostgreSQL; or set "
        "RAPIDATA_LOCAL_SIGNING_KEY). Processes sharing a database must share the key",
    )
    serve.add_argument(
        "--crowd",
        choices=("simulated", "human", "mixed"),
        default="simulated",
        help="who answers jobs: the simulated crowd, people on the labeling page /label "
        "(jobs wait for them; prints an invite link for the owner on a terminal), or both",
    )
    clients = sub.add_parser(
        "clients",
        help="create, list or revoke the client credentials of a backend's database",
        description="Manage the client credentials (tenants) of the database a backend "
        "serves, running or not. Each client sees only what it creates.",
        formatter_class=fmt,
    )
    clients.add_argument(
        "action",
        choices=("create", "list", "revoke"),
        help="create: a new client (prints its secret once); list; revoke CLIENT_ID",
    )
    clients.add_argument("client_id", nargs="?", help="the client to revoke")
    clients.add_argument(
        "--db", default="rapidata-local.sqlite3", help="SQLite file or postgresql:// URL"
    )
    clients.add_argument(
        "--tenant",
        help="create: a second credential of this existing tenant (sharing its data)",
    )
    labelers = sub.add_parser(
        "labelers",
        help="invite people to the labeling page of a backend's database, or list them",
        description="Invite a person to label on the backend's page /label (serve --crowd "
        "human or mixed): prints their invite link, shown once. They answer the tenant's jobs "
        "on the global audience, and on each --audience after passing its qualification "
        "examples.",
        formatter_class=fmt,
    )
    labelers.add_argument("action", choices=("invite", "list"), help="invite a person; list")
    labelers.add_argument(
        "--db", default="rapidata-local.sqlite3", help="SQLite file or postgresql:// URL"
    )
    labelers.add_argument("--tenant", help="whose jobs they answer (default: the first client's)")
    labelers.add_argument("--name", help="invite: the person's name, as the owner knows them")
    labelers.add_argument(
        "--audience",
        action="append",
        default=[],
        metavar="ID",
        help="invite: a custom (or curated) audience they may join; repeatable",
    )
    labelers.add_argument(
        "--url", default="http://127.0.0.1:8080", help="the backend's URL, for the invite link"
    )
    quick = sub.add_parser(
        "quickstart",
        help="run the docs' complete example offline",
        description="Start an in-memory backend and run the docs' complete example against it.",
        formatter_class=fmt,
    )
    quick.add_argument(
        "--speed",
        type=float,
        default=60.0,
        help="crowd seconds per wall-clock second (the crowd answers at a visible pace)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        from .local import serve_forever
        from .local.web import INSTALL_HINT, missing_modules

        missing = missing_modules()
        if missing:
            print(
                f"error: serve needs the 'web' extra for its pages ({', '.join(missing)} "
                f"missing): {INSTALL_HINT}",
                file=sys.stderr,
            )
            return 2

        db = None if args.db == ":memory:" else args.db
        return serve_forever(
            args.host,
            args.port,
            db,
            pace=args.pace,
            speed=args.speed,
            seed=args.seed,
            fetch_urls=args.fetch_urls,
            allow_private_urls=args.allow_private_urls,
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
            assets_dir=args.assets_dir,
            max_upload_bytes=int(args.max_upload_mb * 1024 * 1024),
            lease_ttl=args.lease_ttl,
            key_file=args.key_file,
            crowd=args.crowd,
        )
    if args.command == "clients":
        from .local._admin import manage_clients

        if (args.action == "revoke") != (args.client_id is not None):
            print("error: revoke takes a CLIENT_ID, create and list none", file=sys.stderr)
            return 2
        return manage_clients(args.db, args.action, args.client_id, args.tenant)
    if args.command == "labelers":
        from .local._admin import manage_labelers

        if args.action == "invite" and not args.name:
            print("error: invite needs --name", file=sys.stderr)
            return 2
        return manage_labelers(
            args.db,
            args.action,
            tenant=args.tenant,
            name=args.name,
            audiences=args.audience,
            url=args.url,
        )
    from ._quickstart import main as run

    run(args.speed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
