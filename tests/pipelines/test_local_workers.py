"""Local runs: how many worker processes a user gets by default, and a controller process that stays
light (no TensorFlow) while the workers do the work."""

import subprocess
import sys

import pytest
from apache_beam.options.pipeline_options import DirectOptions

from pipelines import runner_options
from pipelines.config import PipelineConfig
from tests.conftest import write_kjv_chapters


def direct_options(monkeypatch, input_bytes, beam_args=(), cores=2):
    monkeypatch.setattr(runner_options.os, "cpu_count", lambda: cores)
    cfg = PipelineConfig(inputs=("x.txt",), output_dir="out", vocab_file="v.txt")
    options = runner_options.pipeline_options(cfg, list(beam_args), input_bytes).view_as(
        DirectOptions
    )
    return options.direct_running_mode, options.direct_num_workers


def test_one_worker_per_core_once_the_input_is_big_enough(monkeypatch):
    assert direct_options(monkeypatch, 5 << 20) == ("in_memory", 1)
    assert direct_options(monkeypatch, 200 << 20) == ("multi_processing", 2)
    assert direct_options(monkeypatch, 100 << 20, cores=16) == ("multi_processing", 6)


def test_the_users_choice_wins(monkeypatch):
    assert direct_options(monkeypatch, 200 << 20, ["--direct_num_workers=1"]) == ("in_memory", 1)
    assert (
        direct_options(monkeypatch, 200 << 20, ["--direct_running_mode=multi_threading"])[0]
        == "multi_threading"
    )


def test_local_worker_processes_keep_tensorflow_to_one_thread_unless_told(monkeypatch):
    """Worker processes inherit the environment while the run starts them: one TensorFlow thread
    each, as each has a core; a value the user set is kept, and the caller's environment is left as
    it was."""
    environ = runner_options.os.environ
    names = runner_options.TENSORFLOW_THREADS
    for name in names:
        monkeypatch.setenv(name, "")  # recorded, so the test's changes are undone
        monkeypatch.delenv(name)
    monkeypatch.setenv("TF_NUM_INTEROP_THREADS", "4")
    cfg = PipelineConfig(inputs=("x.txt",), output_dir="out", vocab_file="v.txt")
    for beam_args, inside in [
        (["--direct_running_mode=multi_processing", "--direct_num_workers=2"], ["1", "4"]),
        (["--direct_num_workers=1"], [None, "4"]),
    ]:
        options = runner_options.pipeline_options(cfg, beam_args)
        with runner_options.one_tensorflow_thread_per_worker(options):
            assert [environ.get(name) for name in names] == inside
        assert [environ.get(name) for name in names] == [None, "4"]


@pytest.mark.slow
def test_multi_process_controller_never_imports_tensorflow(samples, vocab_file, tmp_path):
    corpus = write_kjv_chapters(samples, tmp_path / "kjv.txt", 0, 20)
    program = (
        "import sys\n"
        "from pipelines.config import PipelineConfig\n"
        "from pipelines.create_pretraining_data import run\n"
        f"stats = run(PipelineConfig(inputs=({corpus!r},), output_dir={str(tmp_path / 'out')!r}, "
        f"vocab_file={vocab_file!r}, max_seq_length=64, max_predictions_per_seq=5, dupe_factor=1, num_shards=2), "
        "['--direct_running_mode=multi_processing', '--direct_num_workers=2'])\n"
        "print(stats['instances'], 'tensorflow' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    instances, imported = result.stdout.split()[-2:]
    assert int(instances) > 100 and imported == "False"
