"""Beam options for the chosen runner: on this machine, how many local worker processes and how
they run; on a remote runner (Dataflow, Flink, Spark), the checks and staging its workers need.

    >>> from pipelines.config import PipelineConfig
    >>> cfg = PipelineConfig(inputs=("corpus.txt",), output_dir="out", vocab_file="vocab.txt")
    >>> pipeline_options(cfg, ["--direct_num_workers=1"]).view_as(StandardOptions).runner
    'FnApiRunner'
"""

from __future__ import annotations

import contextlib
import logging
import os

from apache_beam.options.pipeline_options import (
    DirectOptions,
    PipelineOptions,
    SetupOptions,
    StandardOptions,
    WorkerOptions,
)

from pipelines.config import ConfigError, PipelineConfig

log = logging.getLogger(__name__)


# Below this much input per worker, another local worker process (its start-up, its own TensorFlow) costs
# more than it saves (tools/bench_preprocessing: 2 workers 1.15× one at 10 MB).
LOCAL_BYTES_PER_WORKER = 16 << 20


def local_workers(input_bytes: int, cores: int) -> int:
    """How many worker processes a local run gets unless --direct_num_workers says: one per core, as
    long as each has LOCAL_BYTES_PER_WORKER of input.

    >>> local_workers(10 << 20, 8), local_workers(100 << 20, 2), local_workers(100 << 20, 8)
    (1, 2, 6)
    """
    return max(1, min(cores, input_bytes // LOCAL_BYTES_PER_WORKER))


TENSORFLOW_THREADS = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


@contextlib.contextmanager
def one_tensorflow_thread_per_worker(options: PipelineOptions):
    """While a local multi-process run starts its workers (about one per core; they inherit the
    environment), TensorFlow is kept to one thread each, unless the environment already says:
    its default pools start a thread per core in every process, and on 2 cores 2 workers then spent
    ≈ 16% more CPU than one worker for the same job (288 vs 245 CPU-s at 50 MB); with one thread
    each, 258 vs 261. The caller's environment is restored afterwards."""
    if options.view_as(DirectOptions).direct_running_mode != "multi_processing":
        yield
        return
    added = [name for name in TENSORFLOW_THREADS if name not in os.environ]
    os.environ.update({name: "1" for name in added})
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


LOCAL_RUNNERS = (
    "FnApiRunner",
    "DirectRunner",
    "BundleBasedDirectRunner",
    "PrismRunner",
    "InteractiveRunner",
)
SETUP_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "setup.py")


def _is_local_portable(options: PipelineOptions) -> bool:
    """PortableRunner with an embedded job server (`--job_endpoint=embed`): its workers (an external
    worker pool, or processes) run on this machine and read local paths."""
    from apache_beam.options.pipeline_options import PortableOptions

    return (
        options.view_as(StandardOptions).runner.split(".")[-1] == "PortableRunner"
        and options.view_as(PortableOptions).job_endpoint == "embed"
    )


def pipeline_options(
    cfg: PipelineConfig, beam_args: list[str], input_bytes: int = 0
) -> PipelineOptions:
    """Beam options from the command line. Locally: FnApiRunner, with `local_workers` processes
    unless --direct_num_workers/--direct_running_mode choose. On a remote runner (Dataflow, Flink,
    Spark): inputs and output must be on a filesystem the workers can read, and the workers get this
    project and its dependencies through setup.py unless --setup_file/--requirements_file/a
    container image says otherwise. (The vocab is read here and shipped inside the job.)"""
    options = PipelineOptions(beam_args)
    standard = options.view_as(StandardOptions)
    if standard.runner is None:
        # Beam's DirectRunner first tries to download the Prism runner from GitHub (impossible
        # offline) and then falls back to this same FnApiRunner; go there directly.
        standard.runner = "FnApiRunner"
    if standard.runner.split(".")[-1] in LOCAL_RUNNERS or _is_local_portable(options):
        chosen = any(
            arg.startswith(("--direct_num_workers", "--direct_running_mode")) for arg in beam_args
        )
        workers = local_workers(input_bytes, os.cpu_count() or 1)
        if not chosen and workers > 1 and not _is_local_portable(options):
            direct = options.view_as(DirectOptions)
            direct.direct_running_mode, direct.direct_num_workers = "multi_processing", workers
            log.info(
                "local run: %d worker processes for %.0f MB of input (--direct_num_workers=N to choose)",
                workers,
                input_bytes / 1e6,
            )
        return options
    local = [path for path in (*cfg.inputs, cfg.output_dir) if "://" not in path]
    if local:
        raise ConfigError(
            f"--runner={standard.runner} runs on remote workers: {local} must be on a shared "
            f"filesystem such as gs://bucket/..."
        )
    setup = options.view_as(SetupOptions)
    if not (
        setup.setup_file
        or setup.requirements_file
        or options.view_as(WorkerOptions).sdk_container_image
    ):
        setup.setup_file = SETUP_FILE
    return options
