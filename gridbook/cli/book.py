"""``gridbook book``: execute the chapter notebooks and build the HTML book."""

from __future__ import annotations

from gridbook.cli.options import STORE_HELP, add_execution_options, checked_store, default_store, execution_options
from gridbook.config import DEFAULT_PROFILE, PROFILES
from gridbook.errors import ChapterError, UserError

DEFAULT_KERNEL = "python3"  # gridbook.book.kernels' default, without importing the book for --help


def _run_cli(args) -> int:
    from gridbook.book.build import build_book
    from gridbook.book.parameters import parse_params

    store = checked_store(args.store or default_store())
    try:
        index = build_book(profile=args.profile, chapters=args.chapter, params=parse_params(args.param), store=store,
                           kernel=args.kernel, html_output=not args.no_html, options=execution_options(args),
                           evidence=args.evidence)
    except ChapterError as err:
        raise UserError(str(err)) from None
    print(index)
    return 0


def register_cli(subparsers) -> None:
    parser = subparsers.add_parser(
        "book", help="execute the chapters and build the HTML book",
        description="Execute chapter notebooks (papermill) and build the book (jupyter-book); prints index.html.")
    parser.add_argument("--profile", default=DEFAULT_PROFILE, help=f"{', '.join(PROFILES)} (default {DEFAULT_PROFILE})")
    parser.add_argument("--chapter", nargs="+", action="extend", metavar="NAME",
                        help="execute only these chapters (default: every chapter of book/_toc.yml)")
    parser.add_argument("-p", "--param", nargs=2, action="append", metavar=("NAME", "VALUE"),
                        help='chapter parameter, value parsed as YAML (e.g. -p sigmas "[0.1, 0.11]")')
    parser.add_argument("--store", default=None, help=STORE_HELP)
    parser.add_argument("--kernel", default=DEFAULT_KERNEL, help="Jupyter kernel (default: python3)")
    parser.add_argument("--no-html", action="store_true", help="execute the chapters only, skip jupyter-book")
    parser.add_argument("--evidence", default=None, metavar="DIR",
                        help="the evidence bundle the chapters show beside their re-run (default: every bundle "
                             "committed under evidence/; 'none': none)")
    add_execution_options(parser)  # where the chapters' networks are trained, before any chapter executes
    parser.set_defaults(func=_run_cli)
