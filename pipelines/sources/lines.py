"""The google-research format: one sentence per line, a blank line between documents.

Undecodable lines and absurdly long lines are skipped one by one (reported), the rest of the document
is kept — so corpora prepared for the original scripts work unchanged.

Example:
    >>> import io
    >>> [d.paragraphs for d in read("c.txt", io.BytesIO(b"A b.\\n\\nC d.\\nE.\\n"), 100)]
    [['A b.'], ['C d.', 'E.']]
"""

from __future__ import annotations

from typing import BinaryIO, Iterator

from pipelines.sources import Item, RawDocument, Skipped


def decoded_lines(path: str, stream: BinaryIO, max_line_chars: int) -> Iterator[str | Skipped]:
    """UTF-8 lines without line ends; bad lines come out as `Skipped` items."""
    for number, raw in enumerate(stream, start=1):
        if len(raw) > max_line_chars * 4:  # even all-4-byte characters would exceed the limit
            yield Skipped("line_too_long", path, f"line {number}: {len(raw)} bytes")
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            yield Skipped("undecodable_line", path, f"line {number}: {error.reason}")
            continue
        if len(line) > max_line_chars:
            yield Skipped("line_too_long", path, f"line {number}: {len(line)} characters")
            continue
        yield line.rstrip("\r\n")


def read(path: str, stream: BinaryIO, max_line_chars: int) -> Iterator[Item]:
    sentences: list[str] = []
    count = 0
    for line in decoded_lines(path, stream, max_line_chars):
        if isinstance(line, Skipped):
            yield line
        elif line.strip():
            sentences.append(line.strip())
        elif sentences:
            yield RawDocument(f"{path}#{count}", sentences, presplit=True)
            sentences, count = [], count + 1
    if sentences:
        yield RawDocument(f"{path}#{count}", sentences, presplit=True)
    elif count == 0:
        yield Skipped("empty_file", path)
