"""Quiet by default: a run prints its own progress and results, not the libraries' chatter.

Every process that loads TensorFlow prints C++ banners that no setting turns off ("Could not find
cuda drivers on your machine", "failed call to cuInit", "All log messages before
absl::InitializeLog() is called are written to STDERR"), and Beam and TensorFlow log INFO lines
about type hints, state caches and saved functions. Unless the user asks for them — `--verbose`,
`BERT_TF_VERBOSE=1` or `TF_CPP_MIN_LOG_LEVEL=0` — two things hide them:

- `filter_tensorflow_banners()` (run once when the `bert_tf` package is imported, so also in Beam's
  worker processes) sets `TF_CPP_MIN_LOG_LEVEL=2` unless it is set, and drops the banners TensorFlow
  prints while it loads and first lists its devices; anything else printed in that moment is passed
  on unchanged.
- `configure_logging()` (run by every entry point, bert_tf.core.cli) leaves the project's loggers at INFO
  and puts the libraries' at WARNING, with a short `HH:MM:SS message` format; a local Beam run's
  forwarded worker records are shown as their message alone. Warnings of every library stay visible.

Example:
    >>> bool(NATIVE_NOISE.search("I0000 00:00:17.1  26882 cudart_stub.cc:31] Could not find cuda drivers"))
    True
    >>> bool(NATIVE_NOISE.search("E0000 op_kernel.cc:1830] OP_REQUIRES failed: out of memory"))
    False
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile
import warnings

# Lines TensorFlow's C++ side prints while loading / probing for GPUs on a machine without one.
NATIVE_NOISE = re.compile(
    r"cudart_stub\.cc|cuda_platform\.cc:\d+\] failed call to cuInit|cuda_diagnostics\.cc"
    r"|All log messages before absl::InitializeLog\(\) is called|cpu_feature_guard\.cc"
    r"|oneDNN custom operations are on|Unable to register cu(DNN|FFT|BLAS) factory"
    r"|computation_placer\.cc|TF-TRT Warning"
)
PROJECT_LOGGERS = (
    "bert_tf",
    "pipelines",
    "tools",
    "__main__",
)  # an entry point run with -m is __main__


def verbose_requested(argv: list[str] | None = None) -> bool:
    """--verbose on the command line, or BERT_TF_VERBOSE=1."""
    argv = sys.argv if argv is None else argv
    return "--verbose" in argv or os.environ.get("BERT_TF_VERBOSE", "") not in ("", "0")


@contextlib.contextmanager
def native_stderr_filtered(noise: re.Pattern = NATIVE_NOISE):
    """Captures what is written to file descriptor 2 (C++ and Python alike) inside the block, then
    writes it back without the lines that match `noise`."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable stderr: nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [
                line
                for line in captured.read().decode(errors="replace").splitlines(keepends=True)
                if not noise.search(line)
            ]
            sys.stderr.write("".join(kept))
            sys.stderr.flush()


class _FilteredTensorFlowImport:
    """A meta-path finder that, for the first `import tensorflow` only, runs TensorFlow's own loader
    inside `native_stderr_filtered` and lists the devices there (the CUDA probe prints on that
    call)."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        import importlib.util

        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        load = spec.loader.exec_module

        def exec_module(module):
            with native_stderr_filtered():
                load(module)
                module.config.list_physical_devices()

        spec.loader.exec_module = exec_module
        return spec


def filter_tensorflow_banners() -> None:
    """Unless verbose output was asked for: TF_CPP_MIN_LOG_LEVEL=2 (if unset) and the load-time
    banners filtered (they ignore the level)."""
    if verbose_requested() or os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "0":
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" not in sys.modules and not any(
        isinstance(f, _FilteredTensorFlowImport) for f in sys.meta_path
    ):
        sys.meta_path.insert(0, _FilteredTensorFlowImport())


def configure_logging(verbose: bool) -> None:
    """Project loggers at INFO; libraries (TensorFlow, Beam, absl) at WARNING unless `verbose`."""
    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.INFO if verbose else absl_logging.WARNING)
    if verbose:
        os.environ["BERT_TF_VERBOSE"] = "1"  # for the worker processes this run starts
    for name in PROJECT_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    if not verbose:
        for name in ("tensorflow", "apache_beam", "keras"):
            logging.getLogger(name).setLevel(logging.WARNING)
        absl_logging.get_absl_handler().setFormatter(_ShortFormatter())
        # tf.data's notice when a distributed dataset reads its options in graph mode (every eval set).
        warnings.filterwarnings("ignore", message="To make it possible to preserve tf.data options")
        worker_logs = logging.getLogger(BEAM_WORKER_LOGGER)
        if not any(isinstance(f, _BeamWorkerMessages) for f in worker_logs.filters):
            worker_logs.addFilter(_BeamWorkerMessages())


# Local multi-process Beam runs forward each worker's log records through this logger, as
# "Worker: <the whole log entry as protobuf text>".
BEAM_WORKER_LOGGER = "apache_beam.runners.portability.local_job_service"
_WORKER_MESSAGE = re.compile(r'message: "((?:[^"\\]|\\.)*)"')
_WORKER_NOISE = ("No semi_persistent_directory found",)


class _BeamWorkerMessages(logging.Filter):
    """Shows a forwarded worker record as its message alone, and drops Beam's start-up notice."""

    def filter(self, record: logging.LogRecord) -> bool:
        match = _WORKER_MESSAGE.search(record.getMessage())
        if not match:
            return True
        message = match.group(1).encode("latin-1", "backslashreplace").decode("unicode_escape")
        if message.startswith(_WORKER_NOISE):
            return False
        record.msg, record.args = f"worker: {message}", ()
        return True


class _ShortFormatter(logging.Formatter):
    """`14:46:41 message`, and `14:46:41 warning: message` from WARNING up."""

    def format(self, record: logging.LogRecord) -> str:
        level = "" if record.levelno < logging.WARNING else f"{record.levelname.lower()}: "
        text = f"{self.formatTime(record, '%H:%M:%S')} {level}{record.getMessage()}"
        return f"{text}\n{self.formatException(record.exc_info)}" if record.exc_info else text
