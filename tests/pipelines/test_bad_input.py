"""A corpus with every kind of bad input: the run finishes, each problem is counted by reason and file
(Beam counters → stats.json), and every good document's text reaches the TFRecords."""

import bz2
import glob
import os
import random

import pytest
import tensorflow as tf

from pipelines.config import PipelineConfig
from pipelines.create_pretraining_data import run


def sentences_about(word: str, count: int = 12) -> list[str]:
    return [
        f"The {word} number {i} was seen near the old town on a cold morning." for i in range(count)
    ]


def wiki_page(title: str, text: str, redirect: bool = False) -> str:
    redirect_tag = f'<redirect title="{title} 2" />' if redirect else ""
    return (
        f"<page><title>{title}</title><ns>0</ns><id>1</id>{redirect_tag}<revision><id>2</id>"
        f"<text>{text}</text></revision></page>"
    )


def wiki_dump(*pages: str) -> bytes:
    return (
        "<mediawiki><siteinfo><sitename>W</sitename></siteinfo>" + "".join(pages) + "</mediawiki>"
    ).encode()


@pytest.fixture(scope="module")
def bad_corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad_corpus")
    rng = random.Random(0)
    (d / "book-tiger.txt").write_text("\n\n".join(sentences_about("tiger")) + "\n")
    (d / "book-penguin.txt.bz2").write_bytes(
        bz2.compress("\n\n".join(sentences_about("penguin")).encode())
    )
    good_wiki = wiki_dump(
        wiki_page("Volcano", " ".join(sentences_about("volcano"))),
        wiki_page("Lighthouse", " ".join(sentences_about("lighthouse"))),
        wiki_page("Old name", "#REDIRECT [[Volcano]]", redirect=True),
        wiki_page("Only a box", "{{Infobox thing|name=x}}"),
    )
    (d / "wiki-good.xml.bz2").write_bytes(bz2.compress(good_wiki))
    # bz2 blocks hold 900 kB: 1.5 MB of varied text makes two, so the cut one leaves whole pages before it.
    pages = [
        wiki_page(f"T{i}", " ".join(sentences_about(f"submarine {rng.random()}")))
        for i in range(1500)
    ]
    truncated = bz2.compress(wiki_dump(*pages))
    (d / "wiki-truncated.xml.bz2").write_bytes(truncated[: int(len(truncated) * 0.75)])
    (d / "wiki-malformed.xml").write_bytes(
        wiki_dump(wiki_page("Telescope", " ".join(sentences_about("telescope"))))[
            : -len("</mediawiki>")
        ]
        + b"<page><title>broken</tit></page>"
    )
    (d / "book-undecodable.txt").write_bytes(
        "\n\n".join(sentences_about("cathedral")).encode()
        + b"\n\nbad \xff\xfe bytes here\n\nmore \xc3( bad\n"
    )
    (d / "book-empty.txt").write_bytes(b"")
    (d / "book-binary.txt").write_bytes(bytes(rng.randrange(256) for _ in range(20_000)))
    (d / "book-long-line.txt").write_bytes(
        b"x" * 10_000_000 + b"\n\n" + "\n\n".join(sentences_about("harbor")).encode()
    )
    return str(d)


@pytest.fixture(scope="module")
def result(bad_corpus, vocab_file, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("out"))
    stats = run(
        PipelineConfig(
            inputs=(f"{bad_corpus}/*",),
            output_dir=out,
            vocab_file=vocab_file,
            dupe_factor=1,
            num_shards=2,
            dynamic_masking=True,
        ),
        [],
    )
    return {"stats": stats, "out": out}


def test_every_bad_input_is_counted_by_reason_and_file(result, bad_corpus):
    stats = result["stats"]
    assert stats["skipped"] == {
        "binary_file": 1,
        "truncated_file": 1,
        "empty_file": 1,
        "line_too_long": 1,
        "malformed_xml": 1,
        "undecodable_line": 2,
        "wiki_no_text": 1,
        "wiki_redirect": 1,
    }
    by_file = {
        os.path.basename(path): reasons for path, reasons in stats["skipped_by_file"].items()
    }
    assert by_file == {
        "book-binary.txt": {"binary_file": 1},
        "wiki-truncated.xml.bz2": {"truncated_file": 1},
        "book-empty.txt": {"empty_file": 1},
        "book-long-line.txt": {"line_too_long": 1},
        "wiki-malformed.xml": {"malformed_xml": 1},
        "book-undecodable.txt": {"undecodable_line": 2},
        "wiki-good.xml.bz2": {"wiki_no_text": 1, "wiki_redirect": 1},
    }


def test_every_good_document_reaches_the_output(result, vocab):
    records = tf.data.TFRecordDataset(sorted(glob.glob(f"{result['out']}/train-*")))
    words = set()
    for record in records:
        ids = (
            tf.train.Example.FromString(record.numpy())
            .features.feature["input_ids"]
            .int64_list.value
        )
        words.update(vocab.tokens[i] for i in ids)
    for marker in (
        "tiger",
        "penguin",
        "volcano",
        "lighthouse",
        "telescope",
        "cathedral",
        "harbor",
        "submarine",
    ):
        assert marker in words, marker
    # 6 whole good documents (the telescope page precedes the malformed part) + the pages before the cut.
    read = result["stats"]["documents_read"]
    assert 6 + 100 < read < 6 + 1500 and result["stats"]["documents_used"] == read
