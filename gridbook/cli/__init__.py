"""The ``gridbook`` command line."""

from gridbook.cli.main import main

__all__ = ["main"]
