"""Owned outputs: one writer per directory, whole directories published in one step, nothing of
anyone else's deleted.

Every tool that writes a directory (the pipeline's shards, an exported SavedModel, a converted
checkpoint) builds it in a staging directory beside the target, `.NAME.partial-RUN`, and then
publishes it: a new target is one rename; an existing one — only if it holds a complete earlier
output of the same tool and the user said `--overwrite` — is swapped with the staging directory in
one atomic exchange (Linux `renameat2(RENAME_EXCHANGE)`), after which the old output is removed. A
reader sees the old complete output or the new complete one, never a mixture; a killed run leaves
only a `.NAME.partial-*` directory, which no documented glob matches and the next run removes.

`exclusive(target)` is the one-writer rule: an advisory `flock` on `.NAME.lock` beside the target
that names its holder (host, pid); a second writer stops at once with that name, and a lock whose
holder died is released by the kernel, so it is simply taken over. Remote paths (gs://) have neither
atomic renames nor locks; there the publish step copies files and writes the completion marker last.

Example:
    >>> import tempfile, os
    >>> target = os.path.join(tempfile.mkdtemp(), "out")
    >>> with exclusive(target):
    ...     staging = new_staging_dir(target)
    ...     open(os.path.join(staging, "a.txt"), "w").close()
    ...     publish(staging, target)
    >>> os.listdir(target)
    ['a.txt']
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import shutil
import socket
import time
import uuid
from typing import Callable, Iterator

from bert_tf.core import storage


class OutputError(ValueError):
    """An output path the user must change (or allow with --overwrite); the message says which."""


is_remote = storage.is_remote


def _beside(target: str, kind: str) -> str:
    """`.NAME.KIND` in the directory that holds `target` (local or remote)."""
    if is_remote(target):
        parent, name = target.rstrip("/").rsplit("/", 1)
    else:
        parent, name = os.path.split(os.path.abspath(target.rstrip("/")))
    return f"{parent}/.{name}.{kind}"


def new_staging_dir(target: str) -> str:
    """A fresh, empty `.NAME.partial-RUN` directory beside `target` (created; removed by
    `publish`)."""
    run = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
    staging = _beside(target, f"partial-{run}")
    storage.makedirs(staging)
    return staging


def remove_stale_staging(target: str) -> list[str]:
    """Removes the staging directories that earlier, killed runs left beside `target`. Call it while
    holding `exclusive(target)`: then no live writer owns any of them."""
    stale = sorted(storage.glob(_beside(target, "partial-*")))
    for path in stale:
        storage.rmtree(path)
    return stale


def _listing(target: str) -> list[str]:
    """Names in the target directory ([] if it does not exist); OutputError if it is a file."""
    if storage.exists(target) and not storage.isdir(target):
        raise OutputError(f"{target} is a file, not a directory; choose another output path")
    return storage.listdir(target) if storage.exists(target) else []


def _shown(names: list[str]) -> str:
    return ", ".join(sorted(names)[:3]) + (", …" if len(names) > 3 else "")


def check_target(
    target: str, is_previous_output: Callable[[list[str]], bool], what: str, overwrite: bool
) -> None:
    """Refuses (OutputError) a target that is a file, holds files this tool did not write, or holds
    an earlier output without `overwrite`. `is_previous_output(names)` says whether a directory
    listing is a complete earlier output of the tool (`what` names it in the message)."""
    names = _listing(target)
    if not names:
        return
    if not is_previous_output(names):
        raise OutputError(
            f"{target} holds files that are not {what} ({_shown(names)}); choose a new or "
            "empty directory"
        )
    if not overwrite:
        raise OutputError(
            f"{target} already holds {what}; pass --overwrite to replace it as a whole, "
            "or choose a new directory"
        )


def require_new_or_empty(target: str) -> None:
    """Refuses (OutputError) a target that exists and is not empty: nothing in it may be
    replaced."""
    names = _listing(target)
    if names:
        raise OutputError(
            f"{target} is not empty ({_shown(names)}); choose a new or empty directory "
            "(nothing in it is replaced)"
        )


def _exchange(a: str, b: str) -> bool:
    """Atomically swaps two paths (Linux renameat2 RENAME_EXCHANGE); False where that is
    unsupported."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), b)


def publish(staging: str, target: str) -> None:
    """Moves the complete `staging` directory to `target` (local paths; see `publish_remote`).

    A missing or empty target: one rename. An existing one (already checked by `check_target`):
    swapped atomically, then the old content — now at the staging path — is removed. Without
    RENAME_EXCHANGE the old output is renamed aside first (a moment without a target)."""
    target = os.path.abspath(target.rstrip("/"))
    if os.path.isdir(target) and not os.listdir(target):
        os.rmdir(target)
    if not os.path.exists(target):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.rename(staging, target)
        return
    if not _exchange(staging, target):
        aside = staging + ".old"
        os.rename(target, aside)
        os.rename(staging, target)
        staging = aside
    shutil.rmtree(staging)


def publish_remote(staging: str, target: str, marker: str) -> None:
    """gs:// and other object stores, where a directory cannot be renamed: deletes the earlier
    output's `marker` first, then its other files, moves every file of staging in and `marker` last.
    A reader that trusts a directory only with its marker never reads a mixture."""
    root, source = target.rstrip("/"), staging.rstrip("/")
    old = storage.walk_files(root)
    if marker in old:
        storage.remove(f"{root}/{marker}")
    for name in old:
        if name != marker:
            storage.remove(f"{root}/{name}")
    new = storage.walk_files(source)
    for name in [n for n in new if n != marker] + [marker]:
        storage.makedirs(os.path.dirname(f"{root}/{name}"))
        storage.rename(f"{source}/{name}", f"{root}/{name}")
    storage.rmtree(source)


SAVED_MODEL_FILES = {"saved_model.pb", "fingerprint.pb", "variables", "assets", "keras_metadata.pb"}


def is_saved_model(names: list[str]) -> bool:
    """Whether a directory listing is a SavedModel and nothing else (so export may replace it)."""
    names = {name.rstrip("/") for name in names}
    return "saved_model.pb" in names and names <= SAVED_MODEL_FILES


@contextlib.contextmanager
def staged(target: str, what: str, marker: str) -> Iterator[str]:
    """The one way every tool writes a directory: holds `exclusive(target)`, removes staging
    directories of killed runs, yields a fresh one beside `target` and, when the body succeeds,
    publishes it as `target` (one atomic swap locally; `marker` last on object stores). It is
    removed either way.

    >>> import tempfile
    >>> target = tempfile.mkdtemp() + "/out"
    >>> with staged(target, "--output", marker="done") as staging:
    ...     storage.write_text(f"{staging}/done", "ok")
    >>> storage.listdir(target)
    ['done']
    """
    with exclusive(target, what):
        remove_stale_staging(target)
        staging = new_staging_dir(target)
        try:
            yield staging
            if is_remote(target):
                publish_remote(staging, target, marker)
            else:
                publish(staging, target)
        finally:
            if storage.exists(staging):
                storage.rmtree(staging)


def save_saved_model(module, output: str, signatures: dict, overwrite: bool) -> None:
    """tf.saved_model.save into a staging directory beside `output`, then published in one step."""
    import tensorflow as tf

    check_target(output, is_saved_model, "a SavedModel", overwrite)
    with staged(output, "--output", marker="saved_model.pb") as staging:
        tf.saved_model.save(module, staging, signatures=signatures)


def check_cloud_credentials(paths: list[str], timeout_seconds: float = 20) -> None:
    """gs:// paths need Google Cloud credentials; without them the storage clients retry for minutes
    and end in a long traceback. This asks google-auth once, within `timeout_seconds` (OutputError
    if not)."""
    remote = [path for path in paths if path and path.startswith("gs://")]
    if not remote:
        return
    import concurrent.futures

    import google.auth

    advice = (
        "set up Application Default Credentials (`gcloud auth application-default login`, or "
        "GOOGLE_APPLICATION_CREDENTIALS=key.json)"
    )
    pool = concurrent.futures.ThreadPoolExecutor(1)
    try:
        pool.submit(google.auth.default).result(timeout=timeout_seconds)
    except concurrent.futures.TimeoutError:
        raise OutputError(
            f"{remote[0]}: no Google Cloud credentials found within {timeout_seconds:.0f} s; "
            f"{advice}"
        ) from None
    except google.auth.exceptions.DefaultCredentialsError:
        raise OutputError(f"{remote[0]}: no Google Cloud credentials; {advice}") from None
    finally:
        pool.shutdown(wait=False)


def _holder() -> dict:
    return {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "since": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


@contextlib.contextmanager
def exclusive(target: str, what: str = "this directory") -> Iterator[None]:
    """Holds the one-writer lock of `target` (a no-op for remote paths); raises OutputError at once
    if another live process holds it, naming that process."""
    if is_remote(target):
        yield
        return
    path = _beside(target, "lock")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    while True:
        handle = open(path, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise OutputError(
                f"{target} is in use by {holder} (lock {path}); wait for it to finish or "
                f"use another {what}"
            ) from None
        # The file may have been unlinked by the previous holder between our open and flock: retry.
        if os.path.exists(path) and os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino:
            break
        handle.close()
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(_holder()))
        handle.flush()
        yield
    finally:
        os.unlink(path)
        handle.close()
