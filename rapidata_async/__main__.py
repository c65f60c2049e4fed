"""``python -m rapidata_async serve | quickstart``."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rapidata_async")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the local Rapidata backend until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument(
        "--db",
        default="rapidata-local.sqlite3",
        help="SQLite file (':memory:' for a throwaway backend)",
    )
    serve.add_argument(
        "--response-interval",
        type=float,
        default=0.5,
        help="seconds between two simulated responses of a job",
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
    quick = sub.add_parser("quickstart", help="run the docs' complete example offline")
    quick.add_argument("--response-interval", type=float, default=0.25)
    args = parser.parse_args(argv)

    if args.command == "serve":
        from .local import serve_forever

        db = None if args.db == ":memory:" else args.db
        serve_forever(
            args.host,
            args.port,
            db,
            args.response_interval,
            seed=args.seed,
            fetch_urls=args.fetch_urls,
            allow_private_urls=args.allow_private_urls,
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
            max_upload_bytes=int(args.max_upload_mb * 1024 * 1024),
        )
    else:
        from ._quickstart import main as run

        run(args.response_interval)
    return 0


if __name__ == "__main__":
    sys.exit(main())
