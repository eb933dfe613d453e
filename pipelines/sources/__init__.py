"""Readers that turn one input file (a binary stream) into raw documents, streaming.

Every reader is a generator of `RawDocument` and `Skipped` items: bad input is *reported* as a
`Skipped(reason, path, detail)` (the Beam glue counts and logs it) and never raised, so one broken
file cannot stop a run and nothing disappears silently.

Example:
    >>> import io
    >>> from pipelines.sources import read_documents
    >>> items = list(read_documents("x.txt", io.BytesIO(b"One.\\nTwo.\\n\\nThree.\\n"), "lines"))
    >>> [d.paragraphs for d in items]
    [['One.', 'Two.'], ['Three.']]
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import re
from typing import BinaryIO, Iterator, Union

FORMATS = ("auto", "wiki", "books", "lines")
SNIFF_BYTES = 8192


@dataclasses.dataclass(frozen=True)
class RawDocument:
    """Plain-text paragraphs of one document. `presplit`: each paragraph already is one sentence."""

    source: str  # "file#n" (for logs only: the key below is content-based)
    paragraphs: list[str]
    presplit: bool = False
    # Set when the document was cleaned from a RawPage: the page's key (its wikitext's hash).
    content_key: str | None = None

    @functools.cached_property
    def key(self) -> str:
        """Stable content key: the same text gives the same key whatever the file name or split
        (hashed once per document: the pool's sort, its lookups and the instance keys all ask for
        it)."""
        if self.content_key is not None:
            return self.content_key
        return hashlib.sha1("\n".join(self.paragraphs).encode("utf-8")).hexdigest()

    def characters(self) -> int:
        return sum(map(len, self.paragraphs))


@dataclasses.dataclass(frozen=True)
class RawPage:
    """A Wikipedia article not cleaned yet, keyed by its wikitext: hashing the wikitext costs far
    less than cleaning it, so a job that needs only some pages' text (the NotNext sample, or a page
    the sample already holds) cleans only those. `document()` gives the cleaned RawDocument (with
    the same key) or the Skipped that says why there is no text."""

    path: str
    title: str
    wikitext: str

    @property
    def source(self) -> str:
        return f"{self.path}#{self.title}"

    @functools.cached_property
    def key(self) -> str:
        return hashlib.sha1(b"wikitext\n" + self.wikitext.encode("utf-8")).hexdigest()

    def characters(self) -> int:
        return len(self.wikitext)

    def document(self) -> Union[RawDocument, Skipped]:
        from pipelines.sources.wikipedia import page_document

        return page_document(self)


@dataclasses.dataclass(frozen=True)
class Skipped:
    """A piece of input that was not used, and why."""

    reason: str
    path: str
    detail: str = ""


Item = Union[RawDocument, RawPage, Skipped]


class AmbiguousFormat(ValueError):
    """A text file whose layout fits neither books nor one-sentence-per-line well enough to
    guess."""


_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*$")
_SENTENCE_INSIDE = re.compile(r"[.!?][\"'”’)\]]*\s+[\"'“‘(]?[A-Z]")
_GUTENBERG = re.compile(rb"\*\*\*\s*START OF (THE|THIS) PROJECT GUTENBERG", re.I)
MIN_SNIFF_LINES = 8


def detect_format(path: str, head: bytes = b"") -> str:
    """The format of one input file from its name and its first bytes (decompressed).

    `.xml` in the name or a `<mediawiki` start → wiki. A Gutenberg header or fewer than 8 lines →
    books. Otherwise, over the head's non-blank lines: ≥ 40% with a sentence boundary inside → books
    (one paragraph per line); ≥ 20% longer than 80 characters (so not hard-wrapped) and ≤ 25% with a
    boundary inside → lines (google-research/bert's one sentence per line); short lines: ≥ 85%
    ending a sentence with ≤ 15% blank lines → lines, ≤ 75% ending one or ≥ 15% blank lines → books
    (wrapped prose, verse, drama). Anything else raises AmbiguousFormat, whose message names
    --input_format.

    >>> detect_format("a.txt", b"In the beginning God created the heaven and the earth, and the earth was void.\\n" * 10)
    'lines'
    >>> detect_format("a.txt", b"It was the best of times, it was the worst\\nof times, it was the age of\\n" * 5)
    'books'
    """
    name = path.rsplit("/", 1)[-1].lower()
    if ".xml" in name or head.lstrip()[:10].lower() == b"<mediawiki":
        return "wiki"
    all_lines = head.decode("utf-8", "replace").split("\n")[:-1]
    lines = [line.strip() for line in all_lines if line.strip()]
    if len(lines) < MIN_SNIFF_LINES or _GUTENBERG.search(head):
        return "books"
    ends = sum(bool(_SENTENCE_END.search(line)) for line in lines) / len(lines)
    inside = sum(bool(_SENTENCE_INSIDE.search(line)) for line in lines) / len(lines)
    long_lines = sum(len(line) > 80 for line in lines) / len(lines)
    blank = 1 - len(lines) / len(all_lines)
    if inside >= 0.4:
        return "books"
    if long_lines >= 0.2 and inside <= 0.25:
        return "lines"
    if long_lines < 0.2 and ends >= 0.85 and blank <= 0.15:
        return "lines"
    if long_lines < 0.2 and (ends <= 0.75 or blank >= 0.15):
        return "books"
    raise AmbiguousFormat(
        f"{path}: cannot tell books from one-sentence-per-line ({ends:.0%} of lines end a "
        f"sentence, {inside:.0%} hold one inside, {long_lines:.0%} are over 80 characters); "
        "pass --input_format=books or --input_format=lines"
    )


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
        buffer[: len(data)] = data
        return len(data)


def read_documents(
    path: str,
    stream: BinaryIO,
    input_format: str,
    max_line_chars: int = 1_000_000,
    clean_pages: bool = True,
) -> Iterator[Item]:
    """Documents (and skips) of one already-decompressed file stream in `input_format`.

    Wikipedia articles come as cleaned RawDocuments, or with `clean_pages=False` as RawPages for the
    caller to clean when it needs their text. Binary files (NUL bytes in the first 8 KiB) are
    skipped whole; a stream that breaks while being read (truncated or corrupt compression) ends the
    file with a `corrupt_file` skip after what was read."""
    from pipelines.sources import books, lines, wikipedia

    readers = {"wiki": wikipedia.read, "books": books.read, "lines": lines.read}
    if input_format not in (*readers, "auto"):
        raise ValueError(f"unknown input format {input_format!r}; expected one of {FORMATS}")
    documents = 0
    try:
        head = stream.read(SNIFF_BYTES)
        if b"\x00" in head:
            yield Skipped("binary_file", path, "NUL bytes in the first 8 KiB")
            return
        if input_format == "auto":
            try:
                input_format = detect_format(path, head)
            except AmbiguousFormat as error:
                yield Skipped("ambiguous_format", path, str(error))
                return
        for item in readers[input_format](
            path, io.BufferedReader(_Prefixed(head, stream)), max_line_chars
        ):
            if clean_pages and isinstance(item, RawPage):
                item = item.document()
            documents += not isinstance(item, Skipped)
            yield item
    except (EOFError, OSError, ValueError) as error:
        yield Skipped("corrupt_file", path, f"after {documents} documents: {error!r}")
