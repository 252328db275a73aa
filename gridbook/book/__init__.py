"""The executable book: building it, what its chapters share, the scorecard and the figures."""

from gridbook.book.build import (
                  build_book,
           chapter_spec,
           deviation_table,
           profile_box,
           profile_box_html,
)
from gridbook.errors import ChapterError

__all__ = ["ChapterError", "build_book", "chapter_spec", "deviation_table", "profile_box",
           "profile_box_html"]
