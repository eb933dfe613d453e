"""The pipeline's progress report (pipelines/progress.py) and the quiet console (bert_tf/core/quiet.py)."""

import io
import logging
import os

from bert_tf.core import quiet
from pipelines import progress


def test_render_names_the_phase_and_estimates_the_rest_of_the_main_read():
    total = 40e6
    assert (
        progress.render({"pool_bytes": 10e6}, total, None)
        == "NotNext sample: 10.0 of 40.0 MB read (25%)"
    )
    assert "tokenizing the sample" in progress.render({"pool_bytes": 40e6}, total, None)
    line = progress.render(
        {"pool_bytes": 40e6, "bytes": 10e6, "instances": 1234}, total, main_seconds=60
    )
    assert line == "making instances: 10.0 of 40.0 MB read (25%), 1,234 instances, ETA 3m00s"
    assert progress.render({"bytes": 40e6, "instances": 5}, total, 99).startswith(
        "writing shards: all 40.0 MB"
    )
    assert progress.render({"bytes": 1e6}, total, 1, sampling=False).startswith(
        "making instances: 1.0 of 40.0"
    )
    assert "ETA 2h00m" in progress.render({"pool_bytes": 40e6, "bytes": 1e6}, total, 185)


def test_worker_reports_are_summed_over_processes_and_shown_while_running(tmp_path, monkeypatch):
    progress.report(str(tmp_path), force=True, pool_bytes=100, bytes=25, instances=7)
    other_worker = tmp_path / "99999999.json"
    other_worker.write_text('{"bytes": 50, "instances": 3}')
    # a file being replaced: skipped this tick
    (tmp_path / "half-written.json").write_text('{"bytes": ')
    mine = progress.read_totals(str(tmp_path))
    assert mine == {"pool_bytes": 100, "bytes": 75, "instances": 10}

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    shown = Terminal()
    with progress.ProgressLine(str(tmp_path), total_bytes=int(mine["bytes"]) * 2, stream=shown):
        import time

        time.sleep(2.5)
    assert "\r\x1b[Kmaking instances:" in shown.getvalue() and shown.getvalue().endswith("\r\x1b[K")

    monkeypatch.setattr(progress, "LOG_SECONDS", 0.5)
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    progress.log.addHandler(handler)
    progress.log.setLevel(logging.INFO)
    try:
        with progress.ProgressLine(
            str(tmp_path), total_bytes=int(mine["bytes"]), stream=io.StringIO()
        ):
            time.sleep(2.5)
    finally:
        progress.log.removeHandler(handler)
    assert records and records[-1].getMessage().startswith("writing shards: all")


def test_reading_reports_every_input_byte_once_to_beam_counters_and_the_files(tmp_path):
    """Whole files (compressed ones by their compressed size) and byte ranges of one file, whatever the
    documents: the totals end at the input's size, so the progress line ends at 100%."""
    import bz2

    import apache_beam as beam

    from pipelines.read_units import ReadUnitFn

    text = "".join(
        f"Sentence {i} of a document.\n" + ("\n" if i % 7 == 6 else "") for i in range(400)
    )
    plain, compressed = tmp_path / "a.txt", tmp_path / "b.txt.bz2"
    plain.write_text(text)
    compressed.write_bytes(bz2.compress(text.encode()))
    size = plain.stat().st_size
    units = [
        (str(plain), 0, None),
        (str(compressed), 0, None),
        (str(plain), 0, size // 3),
        (str(plain), size // 3, size),
    ]
    (tmp_path / "progress").mkdir()
    with beam.Pipeline(runner="FnApiRunner") as pipeline:
        _ = (
            pipeline
            | beam.Create(units)
            | beam.ParDo(ReadUnitFn("lines", 10_000, progress_dir=str(tmp_path / "progress")))
        )
    query = pipeline.result.metrics().query(
        beam.metrics.MetricsFilter().with_namespace(progress.NAMESPACE)
    )
    counters = {m.key.metric.name: m.committed for m in query["counters"]}
    expected = 2 * size + compressed.stat().st_size
    assert counters == {"bytes": expected}
    assert progress.read_totals(str(tmp_path / "progress")) == {"bytes": expected}


def test_native_stderr_filter_drops_tensorflow_banners_and_keeps_everything_else(capfd):
    with quiet.native_stderr_filtered():
        os.write(
            2,
            b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
        )
        os.write(
            2,
            b"I0000 00:00:1796136652.601099   26882 cudart_stub.cc:31] Could not find cuda drivers\n",
        )
        os.write(
            2, b"E0000 00:00:17.1 cuda_platform.cc:52] failed call to cuInit: UNKNOWN ERROR (303)\n"
        )
        os.write(2, b"E0000 op_kernel.cc:1830] OP_REQUIRES failed: a real error\n")
    assert capfd.readouterr().err == "E0000 op_kernel.cc:1830] OP_REQUIRES failed: a real error\n"


def test_forwarded_beam_worker_records_show_their_message_and_drop_the_startup_notice():
    keep = logging.LogRecord(
        quiet.BEAM_WORKER_LOGGER,
        logging.WARNING,
        "",
        0,
        "Worker: %s",
        ('severity: WARN message: "skipped binary_file in /data/x.txt \\"NUL\\"" thread: "1"',),
        None,
    )
    assert quiet._BeamWorkerMessages().filter(keep)
    assert keep.getMessage() == 'worker: skipped binary_file in /data/x.txt "NUL"'
    drop = logging.LogRecord(
        quiet.BEAM_WORKER_LOGGER,
        logging.WARNING,
        "",
        0,
        "Worker: %s",
        ('message: "No semi_persistent_directory found: ..."',),
        None,
    )
    assert not quiet._BeamWorkerMessages().filter(drop)
