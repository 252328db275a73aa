"""The gridbook book command's options."""

from __future__ import annotations

from pathlib import Path

from gridbook.book import parameters as book
from gridbook.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[2]


CHAPTER_SOURCES = sorted((ROOT / "notebooks").glob("*.md"))


def test_cli_collects_repeated_params_and_chapters():
    args = build_parser().parse_args(["book", "--profile", "smoke", "--chapter", "intro", "methods",
                                      "-p", "sigmas", "[0.1, 0.11]", "-p", "seeds", "[0]"])
    assert (args.profile, args.chapter) == ("smoke", ["intro", "methods"])
    assert book.parse_params(args.param) == {"sigmas": [0.1, 0.11], "seeds": [0]}


def test_the_commands_default_kernel_is_the_books():
    from gridbook.book.kernels import DEFAULT_KERNEL
    from gridbook.cli import book

    assert book.DEFAULT_KERNEL == DEFAULT_KERNEL
