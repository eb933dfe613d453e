"""Byte ranges of one big one-sentence-per-line file, so several workers can read it at once.

A document of the lines format starts after a blank line (or at the top of the file). The range
[start, end) owns every document whose *last preceding blank line* starts inside it (range 0 also owns
the document at the top of the file). A reader seeks to the first line start at or after `start`,
skips the tail of the document it lands in, and reads every owned document to its end, even past `end`.
Every document is read by exactly one range, whatever the range size: reading a file in ranges gives the
same documents as reading it whole.

Example:
    >>> import io
    >>> data = b"A.\\nB.\\n\\nC.\\n\\nD.\\nE.\\n"
    >>> [d.paragraphs for d in read_range("f.txt", io.BytesIO(data), 0, 5, 100)]
    [['A.', 'B.']]
    >>> [d.paragraphs for d in read_range("f.txt", io.BytesIO(data), 5, len(data), 100)]
    [['C.'], ['D.', 'E.']]
"""

from __future__ import annotations

from typing import BinaryIO, Iterator

from pipelines.sources import Item, RawDocument, Skipped

DEFAULT_RANGE_BYTES = 32 << 20


def plan_ranges(size: int, max_range_bytes: int = DEFAULT_RANGE_BYTES, min_ranges: int = 8,
                min_range_bytes: int = 1 << 20) -> list[tuple[int, int]]:
    """[start, end) ranges covering `size` bytes: at least `min_ranges` where each stays ≥ 1 MiB, at most
    `max_range_bytes` each.

    >>> plan_ranges(10)
    [(0, 10)]
    >>> plan_ranges(16 << 20)[:2]
    [(0, 2097152), (2097152, 4194304)]
    """
    step = max(min_range_bytes, min(max_range_bytes, -(-size // min_ranges)))
    return [(start, min(size, start + step)) for start in range(0, size, step)] or [(0, 0)]


def _lines_from(stream: BinaryIO, position: int, max_line_chars: int) -> Iterator[tuple[int, bytes]]:
    """(offset, raw line) from `position` on; over-long lines come through as one truncated marker."""
    while True:
        raw = stream.readline(max_line_chars * 4 + 1)
        if not raw:
            return
        offset, position = position, position + len(raw)
        if len(raw) > max_line_chars * 4 and not raw.endswith(b"\n"):
            rest = raw
            while rest and not rest.endswith(b"\n"):  # skip the remainder of the huge line
                rest = stream.readline(1 << 20)
                position += len(rest)
            raw = b"\x00too-long"
        yield offset, raw


def _first_line_start(stream: BinaryIO, start: int) -> int:
    """Offset of the first line that starts at or after `start`."""
    if start == 0:
        return 0
    stream.seek(start - 1)
    while True:  # the rest of the line holding byte start-1 (may be long: read in blocks)
        block = stream.readline(1 << 20)
        if not block or block.endswith(b"\n"):
            return stream.tell()


def read_range(path: str, stream: BinaryIO, start: int, end: int | None, max_line_chars: int
               ) -> Iterator[Item]:
    """The documents (and line skips) owned by [start, end) of a lines file (`end` None: to the end)."""
    position = _first_line_start(stream, start)
    sentences: list[str] = []
    owned = start == 0  # is the document being read ours? (range 0 owns the one at the top)
    last_blank: int | None = None
    count = 0
    for offset, raw in _lines_from(stream, position, max_line_chars):
        line = _decode(path, offset, raw, max_line_chars)
        if isinstance(line, str) and not line.strip():
            if sentences and owned:
                yield RawDocument(f"{path}@{start}#{count}", sentences, presplit=True)
                count += 1
            sentences, last_blank = [], offset
            continue
        if not sentences and last_blank is not None:  # a document starts here
            if end is not None and last_blank >= end:
                return
            owned = True
        if not owned:
            continue
        if isinstance(line, Skipped):
            yield line
        else:
            sentences.append(line.strip())
    if sentences and owned:
        yield RawDocument(f"{path}@{start}#{count}", sentences, presplit=True)
        count += 1
    if start == 0 and count == 0:
        yield Skipped("empty_file", path)


def _decode(path: str, offset: int, raw: bytes, max_line_chars: int) -> str | Skipped:
    if raw == b"\x00too-long":
        return Skipped("line_too_long", path, f"line at byte {offset}: over {max_line_chars * 4} bytes")
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return Skipped("undecodable_line", path, f"line at byte {offset}: {error.reason}")
    if len(line) > max_line_chars:
        return Skipped("line_too_long", path, f"line at byte {offset}: {len(line)} characters")
    return line.rstrip("\r\n")
