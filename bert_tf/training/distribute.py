"""`--tpu` / `--strategy` → a tf.distribute strategy. The same train step runs under all of them.

Example:
    >>> make_strategy(tpu=None, strategy="cpu").num_replicas_in_sync
    1
"""

from __future__ import annotations

import tensorflow as tf

STRATEGIES = ("cpu", "one_device", "mirrored", "multi_worker", "tpu")


def tpu_cluster_resolver(
    tpu: str | None, zone: str | None = None, project: str | None = None
) -> tf.distribute.cluster_resolver.TPUClusterResolver:
    """The resolver for `--tpu`: a Cloud TPU name (looked up via the metadata/API, in `zone` and
    `project` when given), a grpc://host:port address (a TPU worker reached directly), or
    'local'/empty (a TPU VM's own chips)."""
    return tf.distribute.cluster_resolver.TPUClusterResolver(
        tpu="" if tpu in (None, "local") else tpu, zone=zone, project=project
    )


def make_strategy(
    tpu: str | None, strategy: str = "cpu", zone: str | None = None, project: str | None = None
) -> tf.distribute.Strategy:
    """`tpu`: a TPU name, grpc://host:port, or 'local'; it wins over `strategy`. `zone` and
    `project` locate a Cloud TPU by name from outside its VM.

    - cpu: one CPU device; one_device: the first GPU if there is one, else the CPU;
    - mirrored: all local devices (GPUs, or logical CPUs when configured);
    - multi_worker: MultiWorkerMirroredStrategy over the cluster in TF_CONFIG.
    """
    if tpu or strategy == "tpu":
        resolver = tpu_cluster_resolver(tpu, zone, project)
        if tpu not in (None, "", "local"):
            tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    if strategy == "cpu":
        return tf.distribute.OneDeviceStrategy("/cpu:0")
    if strategy == "one_device":
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")
    if strategy == "mirrored":
        return tf.distribute.MirroredStrategy()
    if strategy == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"unknown --strategy {strategy!r}; expected one of {STRATEGIES}")
