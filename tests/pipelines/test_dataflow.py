"""The same job on Dataflow, as far as this machine allows without GCP: option handling, the job graph
built and serialized for a remote runner, and the package Beam stages for the workers."""

import glob
import shutil
import subprocess
import sys
import tarfile

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import SetupOptions

from pipelines.config import ConfigError, PipelineConfig
from pipelines.runner_options import SETUP_FILE, pipeline_options
from pipelines.transforms import build_pipeline
from tests.bert_tf.cli import ROOT

DATAFLOW = [
    "--runner=DataflowRunner",
    "--project=my-project",
    "--region=europe-west4",
    "--temp_location=gs://my-bucket/tmp",
    "--num_workers=8",
]


def remote_config(vocab_file, **overrides):
    values = dict(
        inputs=("gs://my-bucket/enwiki/*.xml.bz2",),
        output_dir="gs://my-bucket/out",
        vocab_file=vocab_file,
    )
    return PipelineConfig(**{**values, **overrides})


def test_remote_runner_refuses_local_paths(vocab_file):
    with pytest.raises(ConfigError, match="must be on a shared filesystem such as gs://"):
        pipeline_options(remote_config(vocab_file, output_dir="/tmp/out"), DATAFLOW)


def test_workers_get_the_project_through_setup_py_unless_told_otherwise(vocab_file):
    options = pipeline_options(remote_config(vocab_file), DATAFLOW)
    assert options.view_as(SetupOptions).setup_file == SETUP_FILE
    own = pipeline_options(remote_config(vocab_file), DATAFLOW + ["--requirements_file=reqs.txt"])
    assert own.view_as(SetupOptions).setup_file is None
    assert (
        pipeline_options(remote_config(vocab_file, output_dir="/local"), [])
        .view_as(SetupOptions)
        .setup_file
        is None
    )


def test_job_graph_builds_and_serializes_for_dataflow(vocab_file, vocab):
    # The graph is the runner's input; a Pipeline *bound* to DataflowRunner looks up GCP credentials
    # (minutes of retries offline), so the same options are given to a local runner object here.
    pipeline = beam.Pipeline(
        runner="FnApiRunner", options=pipeline_options(remote_config(vocab_file), DATAFLOW)
    )
    build_pipeline(pipeline, remote_config(vocab_file), vocab)
    proto = pipeline.to_runner_api()  # pickles every DoFn, as job submission does
    names = {t.unique_name for t in proto.components.transforms.values()}
    for step in (
        "PlanWorkUnits",
        "SpreadWorkUnits",
        "Read",
        "Tokenize",
        "NotNextPool/SmallestKeys",
        "CreateInstances",
        "WriteShards/SpillSortedRuns",
        "WriteShards/GroupRunsByShard",
        "WriteShards/MergeRuns",
    ):
        assert step in names, step


@pytest.mark.slow
def test_setup_py_stages_the_packages_and_worker_dependencies(tmp_path):
    # What Beam's stager runs for --setup_file (egg-info goes to a temporary copy, not the repo).
    shutil.copytree(
        ROOT,
        tmp_path / "src",
        ignore=shutil.ignore_patterns(".venv", ".git", "runs", "__pycache__"),
    )
    subprocess.run(
        [sys.executable, "setup.py", "-q", "sdist", f"--dist-dir={tmp_path}"],
        cwd=tmp_path / "src",
        check=True,
        capture_output=True,
    )
    (archive,) = glob.glob(f"{tmp_path}/*.tar.gz")
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        pkg_info = (
            tar.extractfile(next(n for n in names if n.endswith("/PKG-INFO"))).read().decode()
        )
        requires = (
            tar.extractfile(next(n for n in names if n.endswith("egg-info/requires.txt")))
            .read()
            .decode()
        )
    assert any(n.endswith("pipelines/shards.py") for n in names) and any(
        n.endswith("bert_tf/core/features.py") for n in names
    )
    assert "Name: bert" in pkg_info
    assert not any(n.endswith("tools/bench_train.py") for n in names)  # repo-only helpers stay out
    needed = {
        line.split("[")[0].split("=")[0].split("<")[0].split(">")[0] for line in requires.split()
    }
    assert {
        "tensorflow-text",
        "mwparserfromhell",
        "sentencex",
        "apache-beam",
        "keras-hub",
    } <= needed
    # decide the bytes
    assert {"sentencex==1.0.32", "pysbd==0.3.4", "mwparserfromhell==0.7.2"} <= set(requires.split())


@pytest.mark.slow
def test_portable_runner_with_an_external_worker_pool_writes_the_local_runs_bytes(
    samples, vocab_file, tmp_path
):
    """The path remote runners take — the job serialized, DoFns unpickled in separate SDK worker processes
    started by a worker pool on 127.0.0.1 — gives the same shards as the local runner."""
    import os
    import socket

    from pipelines.create_pretraining_data import run
    from tests.conftest import write_kjv_chapters
    from tests.pipelines.test_determinism import shard_bytes

    corpus = write_kjv_chapters(samples, tmp_path / "kjv.txt", 0, 12)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
    }  # its workers' `python`
    pool = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "apache_beam.runners.worker.worker_pool_main",
            f"--service_port={port}",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        flags = [
            f"--input={corpus}",
            f"--vocab={vocab_file}",
            "--max_seq_length=64",
            "--max_predictions_per_seq=10",
            "--dupe_factor=2",
            "--num_shards=2",
        ]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pipelines.create_pretraining_data",
                *flags,
                f"--output_dir={tmp_path / 'portable'}",
                "--runner=PortableRunner",
                "--job_endpoint=embed",
                "--environment_type=EXTERNAL",
                f"--environment_config=127.0.0.1:{port}",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr[-3000:]
    finally:
        pool.kill()
    local = run(
        PipelineConfig(
            inputs=(corpus,),
            output_dir=str(tmp_path / "local"),
            vocab_file=vocab_file,
            max_seq_length=64,
            max_predictions_per_seq=10,
            dupe_factor=2,
            num_shards=2,
        ),
        [],
    )
    assert local["instances"] > 100
    assert shard_bytes(str(tmp_path / "portable")) == shard_bytes(str(tmp_path / "local"))
