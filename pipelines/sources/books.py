"""Books (BookCorpus style): one UTF-8 `.txt` file per book, paragraphs separated by blank lines.

Line breaks inside a paragraph are joined with spaces (books are hard-wrapped); a Project Gutenberg
header/footer (`*** START OF ...` / `*** END OF ...`) is dropped when present.

Example:
    >>> import io
    >>> [d.paragraphs for d in read("b.txt", io.BytesIO(b"It was\\nnight.\\n\\nThe end.\\n"), 100)]
    [['It was night.', 'The end.']]
"""

from __future__ import annotations

import re
from typing import BinaryIO, Iterator

from pipelines.sources import Item, RawDocument, Skipped
from pipelines.sources.lines import decoded_lines

_GUTENBERG_START = re.compile(r"^\*\*\*\s*START OF (THE|THIS) PROJECT GUTENBERG", re.I)
_GUTENBERG_END = re.compile(r"^\*\*\*\s*END OF (THE|THIS) PROJECT GUTENBERG", re.I)


def read(path: str, stream: BinaryIO, max_line_chars: int) -> Iterator[Item]:
    paragraphs: list[str] = []
    current: list[str] = []
    for _, line in decoded_lines(path, stream, max_line_chars):
        if isinstance(line, Skipped):
            yield line
            continue
        if _GUTENBERG_START.match(line):
            paragraphs, current = [], []  # everything so far was the licence header
            continue
        if _GUTENBERG_END.match(line):
            break
        if line.strip():
            current.append(line.strip())
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    if paragraphs:
        yield RawDocument(path, paragraphs)
    else:
        yield Skipped("empty_file", path)
