"""Reading the input in work units: each matched file becomes one unit, or several byte ranges when it
is a big uncompressed one-sentence-per-line file, and `ReadUnitFn` turns a unit into the documents of
pipelines/sources (skips counted and logged with the file name, bytes read reported as progress).

Example:
    >>> from apache_beam.io.filesystem import FileMetadata
    >>> plan_work_units(FileMetadata("books/emma.txt.bz2", 900_000_000), "auto")
    [('books/emma.txt.bz2', 0, None)]
"""

from __future__ import annotations

import io
import logging

import apache_beam as beam
from apache_beam.io.filesystem import CompressedFile, CompressionTypes
from apache_beam.io.filesystems import FileSystems

from pipelines import progress, stats
from pipelines.sources import (
    SNIFF_BYTES,
    AmbiguousFormat,
    RawPage,
    Skipped,
    detect_format,
    read_documents,
)
from pipelines.sources.lines import plan_ranges, read_range

log = logging.getLogger(__name__)

# Compressed input is decompressed from blocks this big (Beam's default, 16 MiB, would make the
# progress report jump by 16 MiB of a .bz2 at a time).
_COMPRESSED_READ_BYTES = 1 << 20

# Pages that are not articles are expected in every dump: counted, logged only at debug level.
_EXPECTED_SKIPS = ("wiki_redirect", "wiki_disambiguation", "wiki_not_main_namespace")


def report_skip(skip: Skipped) -> None:
    stats.inc(f"skipped.{skip.reason}")
    stats.inc(stats.per_file_skip(skip.reason, skip.path))
    level = logging.DEBUG if skip.reason in _EXPECTED_SKIPS else logging.WARNING
    log.log(level, "skipped %s in %s %s", skip.reason, skip.path, skip.detail)


def plan_work_units(metadata, input_format: str) -> list[tuple[str, int, int | None]]:
    """(path, start, end) units of one matched file: byte ranges of an uncompressed
    one-sentence-per-line file, else the whole file (end None)."""
    path, size = metadata.path, metadata.size_in_bytes
    if (
        input_format not in ("auto", "lines")
        or size <= plan_ranges(size)[0][1]
        or CompressionTypes.detect_compression_type(path) != CompressionTypes.UNCOMPRESSED
    ):
        return [(path, 0, None)]
    if input_format == "auto":
        try:
            with FileSystems.open(path) as stream:
                if detect_format(path, stream.read(SNIFF_BYTES)) != "lines":
                    return [(path, 0, None)]
        except (AmbiguousFormat, OSError):
            return [(path, 0, None)]  # the reader reports it
    return [(path, start, end) for start, end in plan_ranges(size)]


class ReadUnitFn(beam.DoFn):
    """A work unit → RawDocuments (skips reported, and counted when `count`); the bytes read go to
    the progress report (pipelines/progress.py) as `progress_name` (None: not reported). With the
    side input `wanted` (a set of content keys), only those documents.

    Wikipedia pages are cleaned only where their text is needed: the NotNext sample's read
    (`count=False`) passes RawPages on uncleaned (the sample cleans the few it keeps), and the main
    read passes on uncleaned the pages the sample already holds (Tokenize takes them from it)."""

    def __init__(
        self,
        input_format: str,
        max_line_chars: int,
        count: bool = True,
        progress_dir: str | None = None,
        progress_name: str | None = "bytes",
    ):
        self._format, self._max_line_chars, self._count = input_format, max_line_chars, count
        self._progress_dir, self._progress_name = progress_dir, progress_name

    def process(self, unit, pooled=None, wanted=None):
        """`pooled` (the NotNext pool's keys, as a side input) also makes the runner read after the
        pool is ready, in the same fused stage as everything up to the sorted runs. Read earlier,
        beside the pool's own read, the documents would wait for Tokenize — on the local runner,
        the whole corpus in memory."""
        path, start, end = unit
        try:
            raw = FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
        except Exception as error:  # unreadable file: count it, go on with the others
            self._skip(Skipped("unreadable_file", path, repr(error)))
            return
        with raw:
            reported = start
            pooled = pooled or ()
            for item in self._items(raw, path, start, end):
                if isinstance(item, RawPage) and self._count and item.key not in pooled:
                    item = item.document()
                if isinstance(item, Skipped):
                    self._skip(item)
                    continue
                if self._count:
                    stats.inc("documents_read")
                position = max(reported, min(raw.tell(), end if end is not None else raw.tell()))
                self._report(position - reported)
                reported = position
                if wanted is None or item.key in wanted:
                    yield item
            if end is None:
                raw.seek(0, io.SEEK_END)
            self._report((end if end is not None else raw.tell()) - reported, force=True)

    def _report(self, read_bytes: int, force: bool = False) -> None:
        if self._progress_name:
            progress.report(self._progress_dir, force=force, **{self._progress_name: read_bytes})

    def _items(self, raw, path: str, start: int, end: int | None):
        """A whole file, decompressed as its name says (read in small blocks, so `raw.tell()`
        follows the reading closely), or a byte range of an uncompressed one-sentence-per-line
        file."""
        if end is not None:
            return read_range(path, raw, start, end, self._max_line_chars)
        compression = CompressionTypes.detect_compression_type(path)
        stream = (
            raw
            if compression == CompressionTypes.UNCOMPRESSED
            else CompressedFile(raw, compression, read_size=_COMPRESSED_READ_BYTES)
        )
        return read_documents(path, stream, self._format, self._max_line_chars, clean_pages=False)

    def _skip(self, skip: Skipped) -> None:
        if self._count:
            report_skip(skip)
