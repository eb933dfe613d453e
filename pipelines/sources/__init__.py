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
import io
from typing import BinaryIO, Iterator, Union

FORMATS = ("auto", "wiki", "books", "lines")
_SNIFF_BYTES = 8192


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


class _Prefixed(io.RawIOBase):
    """A stream that first replays `head` (already read to sniff the content), then reads on."""

    def __init__(self, head: bytes, rest: BinaryIO):
        self._head, self._rest = head, rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n], self._head = self._head[:n], self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def read_documents(path: str, stream: BinaryIO, input_format: str, max_line_chars: int = 1_000_000
                   ) -> Iterator[Item]:
    """Documents (and skips) of one already-decompressed file stream in `input_format`.

    Binary files (NUL bytes in the first 8 KiB) are skipped whole; a stream that breaks while being read
    (truncated or corrupt compression) ends the file with a `corrupt_file` skip after what was read."""
    from pipelines.sources import books, lines, wikipedia

    if input_format == "auto":
        input_format = detect_format(path)
    readers = {"wiki": wikipedia.read, "books": books.read, "lines": lines.read}
    if input_format not in readers:
        raise ValueError(f"unknown input format {input_format!r}; expected one of {FORMATS}")
    documents = 0
    try:
        head = stream.read(_SNIFF_BYTES)
        if b"\x00" in head:
            yield Skipped("binary_file", path, "NUL bytes in the first 8 KiB")
            return
        for item in readers[input_format](path, io.BufferedReader(_Prefixed(head, stream)), max_line_chars):
            documents += isinstance(item, RawDocument)
            yield item
    except (EOFError, OSError, ValueError) as error:
        yield Skipped("corrupt_file", path, f"after {documents} documents: {error!r}")
