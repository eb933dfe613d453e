"""How every entry point starts and fails: absl flags, then `main`; whatever goes wrong reaches the
user as one line that says what to do (`error: ...`, exit status 1). `--debug` (or BERT_TF_DEBUG=1)
shows the traceback instead; `--verbose` (or BERT_TF_VERBOSE=1) the libraries' INFO logs
(bert_tf/core/quiet.py).

    from bert_tf.core import cli

    command = cli.command(main)  # named in pyproject.toml's [project.scripts]

    if __name__ == "__main__":
        command()

Errors the user can fix (a bad flag, vocab, input or output path, a full disk, missing credentials)
carry their own message; anything else is named by its type and message, with a pointer to --debug.
"""

from __future__ import annotations

import errno
import os
import sys
from typing import Callable

from absl import app, flags

from bert_tf.core import quiet

_DISK_ERRORS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EACCES: "permission denied",
    errno.EROFS: "read-only file system",
    errno.ENOTDIR: "a path component is a file, not a directory",
    errno.EISDIR: "is a directory, not a file",
}


def one_line(error: BaseException) -> str:
    """The message a user sees for `error` (first line only)."""
    tf = sys.modules.get("tensorflow")  # an error from TensorFlow means it was imported
    if isinstance(error, OSError) and error.errno in _DISK_ERRORS:
        where = f" ({error.filename})" if error.filename else ""
        return f"{_DISK_ERRORS[error.errno]}{where}: free space or choose another path"
    if (
        tf
        and isinstance(error, tf.errors.ResourceExhaustedError)
        and "space" in str(error.message).lower()
    ):
        return f"no space left on the device: {error.message.splitlines()[0]}"
    if tf and isinstance(error, tf.errors.OpError):
        return f"{type(error).__name__}: {str(error.message).strip().splitlines()[0]}"
    if isinstance(error, (ValueError, FileNotFoundError, FileExistsError, PermissionError)):
        return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text} (run again with --debug for the traceback)"


def debugging() -> bool:
    return os.environ.get("BERT_TF_DEBUG", "") not in ("", "0") or bool(flags.FLAGS["debug"].value)


def missing_flags_error(required: tuple[str, ...]) -> str | None:
    """`error: --a and --b are required` for the required flags left unset, else None."""
    missing = [f"--{name}" for name in required if flags.FLAGS[name].value in (None, "", [])]
    if not missing:
        return None
    return f"error: {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} required"


def run(
    main: Callable, flags_parser: Callable | None = None, required: tuple[str, ...] = ()
) -> None:
    """absl `app.run(main)` with one-line errors (tracebacks with --debug / BERT_TF_DEBUG=1); a flag
    named in `required` left unset stops the run before `main` with one line naming it."""
    flags.DEFINE_bool(
        "debug", False, "Show the full traceback of an error (also: BERT_TF_DEBUG=1)."
    )
    flags.DEFINE_bool(
        "verbose",
        False,
        "Show the libraries' INFO logs and TensorFlow's C++ banners (also: BERT_TF_VERBOSE=1).",
    )

    def guarded(argv):
        quiet.configure_logging(flags.FLAGS.verbose or quiet.verbose_requested())
        missing = missing_flags_error(required)
        if missing:
            sys.exit(missing)
        try:
            return main(argv)
        except (SystemExit, KeyboardInterrupt):
            raise
        except Exception as error:  # noqa: BLE001 - every error becomes one line unless debugging
            if debugging():
                raise
            sys.exit(f"error: {one_line(error)}")

    app.run(guarded, **({} if flags_parser is None else {"flags_parser": flags_parser}))


def command(
    main: Callable,
    flags_parser: Callable | None = None,
    required: tuple[str, ...] = (),
    define_flags: Callable[[], None] | None = None,
) -> Callable[[], None]:
    """The zero-argument function an installed console command calls: `define_flags()` when given
    (a program other commands import defines its flags only when it runs), then `run(main,
    flags_parser, required)`."""

    def run_command() -> None:
        if define_flags is not None:
            define_flags()
        run(main, flags_parser, required)

    return run_command
