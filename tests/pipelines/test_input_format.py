"""--input_format=auto on real files: google-research/bert's own format (one sentence per line, blank lines
between documents, `.txt`) is recognised, books stay books, an unclear file is a one-line error, and a
corpus that cannot give NotNext pairs is a loud warning."""

import glob
import os

import pytest

from pipelines.config import ConfigError, PipelineConfig
from pipelines.create_pretraining_data import run
from pipelines.sources import AmbiguousFormat, detect_format
from tests.conftest import write_kjv_chapters

# Short lines (not one sentence per line for sure), 80% of them ending a sentence (nor clearly prose).
UNCLEAR = (
    b"The first line ends a sentence.\nThe second one does too.\nAnd so does the third.\n"
    b"The fourth also ends one.\nbut this one does not end it\n"
) * 4


def head(path, size=8192):
    with open(path, "rb") as f:
        return f.read(size)


def test_real_samples_are_told_apart(samples):
    assert detect_format("kjv.txt", head(samples["kjv_lines"])) == "lines"
    plays = sorted(glob.glob(os.path.join(samples["books"], "*.txt")))
    assert len(plays) == 42 and {detect_format(p, head(p)) for p in plays} == {"books"}
    assert detect_format(samples["wiki"]) == "wiki"


def test_unwrapped_paragraphs_are_books_and_unclear_text_is_refused():
    paragraphs = (
        b"It rained. We stayed in and read all day long.\n\nThen the sun came. We went out to play.\n\n"
        * 8
    )
    assert detect_format("p.txt", paragraphs) == "books"
    unclear = UNCLEAR
    with pytest.raises(AmbiguousFormat, match="--input_format=lines"):
        detect_format("u.txt", unclear)


def pipeline_config(inputs, vocab_file, out, **overrides):
    return PipelineConfig(
        inputs=tuple(inputs),
        output_dir=str(out),
        vocab_file=vocab_file,
        max_seq_length=64,
        max_predictions_per_seq=10,
        dupe_factor=2,
        num_shards=1,
        **overrides,
    )


def test_the_originals_format_with_default_flags_gives_half_notnext(samples, vocab_file, tmp_path):
    # what google-research/bert reads
    corpus = write_kjv_chapters(samples, tmp_path / "corpus.txt", 0, 20)
    stats = run(pipeline_config([corpus], vocab_file, tmp_path / "out"), [])
    labels = stats["nsp_labels"]
    assert stats["documents_used"] == 20 and stats["warnings"] == []
    assert 0.4 <= labels["is_random"] / (labels["is_random"] + labels["is_next"]) <= 0.6


def test_an_unclear_file_stops_the_run_with_one_line_naming_the_flag(vocab_file, tmp_path):
    corpus = tmp_path / "unclear.txt"
    corpus.write_bytes(UNCLEAR)
    with pytest.raises(ConfigError, match="--input_format"):
        run(pipeline_config([str(corpus)], vocab_file, tmp_path / "out"), [])
    assert not (tmp_path / "out").exists()


def test_one_document_with_nsp_is_a_loud_warning(samples, vocab_file, tmp_path):
    corpus = write_kjv_chapters(samples, tmp_path / "one.txt", 0, 1)
    stats = run(pipeline_config([corpus], vocab_file, tmp_path / "out", input_format="books"), [])
    assert stats["documents_used"] == 1
    assert any("only 1 document" in w for w in stats["warnings"])
    assert "warnings" in open(tmp_path / "out" / "stats.json").read()
