"""Readers that turn one input file (a binary stream) into raw documents, streaming.

Every reader is a generator of `RawDocument` and `Skipped` items: bad input is *reported* as a
`Skipped(reason, path, detail)` (the Beam glue counts and logs it) and never raised, so one broken file
cannot stop a run and nothing disappears silently.

Example:
    >>> import io
    >>> from pipelines.sources import read_documents
    >>> items = list(read_documents("x.txt", io.BytesIO(b"One.\\nTwo.\\n\\nThree.\\n"), "lines"))
    >>> [d.paragraphs for d in items]
    [['One.', 'Two.'], ['Three.']]
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import BinaryIO, Iterator, Union

FORMATS = ("auto", "wiki", "books", "lines")


@dataclasses.dataclass(frozen=True)
class RawDocument:
    """Plain-text paragraphs of one document. `presplit`: each paragraph already is one sentence."""

    source: str  # "file#n" (for logs only: the key below is content-based)
    paragraphs: list[str]
    presplit: bool = False

    @property
    def key(self) -> str:
        """Stable content key: the same text gives the same key whatever the file name or split."""
        return hashlib.sha1("\n".join(self.paragraphs).encode("utf-8")).hexdigest()


@dataclasses.dataclass(frozen=True)
class Skipped:
    """A piece of input that was not used, and why."""

    reason: str
    path: str
    detail: str = ""


Item = Union[RawDocument, Skipped]


def detect_format(path: str) -> str:
    """Guesses the format from the file name: names with '.xml' (dumps: *.xml, *.xml.bz2,
    *.xml-p1p30302.bz2) → wiki, everything else → books. Pass --input_format for one-sentence-per-line."""
    return "wiki" if ".xml" in path.rsplit("/", 1)[-1].lower() else "books"


def read_documents(path: str, stream: BinaryIO, input_format: str, max_line_chars: int = 1_000_000
                   ) -> Iterator[Item]:
    """Documents (and skips) of one already-decompressed file stream in `input_format`."""
    from pipelines.sources import books, lines, wikipedia

    if input_format == "auto":
        input_format = detect_format(path)
    readers = {"wiki": wikipedia.read, "books": books.read, "lines": lines.read}
    if input_format not in readers:
        raise ValueError(f"unknown input format {input_format!r}; expected one of {FORMATS}")
    yield from readers[input_format](path, stream, max_line_chars)
