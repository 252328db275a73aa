"""Command line: ``gridbook train|sweep|book|scorecard|evidence ...`` (also ``python -m gridbook``).

Each topic module registers its own sub-command through a ``register_cli(subparsers)`` function that adds a parser
and sets ``func`` to a callable taking the parsed arguments. Errors that users can fix (bad config values, unknown
files) print one clear line and exit 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys

from gridbook.cli import book, evidence, scorecard, sweep, train
from gridbook.errors import ConfigError, CorruptRunError, UserError
from gridbook.files import gridbook_version

# modules that contribute sub-commands, in the order of --help
COMMAND_MODULES = (train, sweep, book, scorecard, evidence)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gridbook", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"gridbook {gridbook_version()}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.register_cli(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ConfigError, UserError, FileNotFoundError, CorruptRunError) as err:
        if args.debug:
            raise
        print(f"gridbook {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
