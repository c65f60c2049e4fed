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
    quick = sub.add_parser("quickstart", help="run the docs' complete example offline")
    quick.add_argument("--speed", type=float, default=60.0, help="crowd seconds per second")
    args = parser.parse_args(argv)

    if args.command == "serve":
        from .local import serve_forever

        db = None if args.db == ":memory:" else args.db
        serve_forever(
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
        )
    else:
        from ._quickstart import main as run

        run(args.speed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
