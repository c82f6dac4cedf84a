"""Does W&B fit the nodes it is given? (issue 13)

The reference tables size each node; W&B's chart then requests resources per
size preset (catalogs/reference.yaml ``app_presets``). On the smallest nodes the
chart's pods do not fit the reference architecture's two or three nodes, and at
the larger presets a single pod (parquet: 15 cores) is larger than a node. This
module places W&B's pods on the node type the way the scheduler's resource check
does (a pod needs its requests free on one node), with each node giving what its
cloud leaves after the kubelet's reservation and the system and W&B DaemonSets
(catalogs/<cloud>.yaml ``node_overhead``), and answers:

- the largest preset, at most the tier's target (``app_sizes``), whose every pod
  fits on one node; and
- how many nodes its pods need, first-fit decreasing: the minimum node count
  is raised to it where the tier's own minimum is lower.

All arithmetic is on catalog data; nothing here depends on the machine running gen-tf.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .catalog import Catalog, MachineType, NodeOverhead
from .errors import CatalogError

PRESETS = ("small", "medium", "large", "xlarge")
GIB_PER_MIB = 1 / 1024
# Requests are sums of decimal fractions (1.1 cores): compare with a tolerance far below a millicore.
EPSILON = 1e-6


@dataclass(frozen=True)
class Pod:
    name: str
    cpu: float
    memory_gib: float


@dataclass(frozen=True)
class Capacity:
    """W&B on this node type: the preset chosen, the nodes its pods need, and the figures behind them."""

    preset: str
    target: str
    nodes: int
    # Per node: what pods may request after the kubelet, the system DaemonSets and W&B's own.
    node_cpu: float
    node_memory_gib: float
    # W&B's pods (at their replica minimums), in total.
    requested_cpu: float
    requested_memory_gib: float
    pods: int

    @property
    def lowered(self) -> bool:
        return self.preset != self.target


def _banded(total: float, bands: list[tuple[float | None, float]]) -> float:
    """The reserved amount of ``total`` under bands of (size, share); a None size takes the rest."""
    reserved, left = 0.0, total
    for size, share in bands:
        part = left if size is None else min(size, left)
        reserved += part * share
        left -= part
        if left <= 0:
            break
    return reserved


def allocatable(overhead: NodeOverhead, machine: MachineType) -> tuple[float, float]:
    """(cores, GiB) a node gives pods, after the kubelet's reservation and eviction threshold
    and the system DaemonSets on every node."""
    max_pods = machine.max_pods or overhead.max_pods
    cpu = machine.vcpu - _banded(machine.vcpu, overhead.cpu_bands)
    reserve = overhead.memory
    memory_reserved = (reserve.base_mib + reserve.per_pod_mib * max_pods) * GIB_PER_MIB
    memory_reserved += _banded(machine.memory_gib, reserve.bands)
    if reserve.max_share is not None:
        memory_reserved = min(memory_reserved, reserve.max_share * machine.memory_gib)
    memory = machine.memory_gib - memory_reserved - overhead.eviction_memory_gib
    return cpu - overhead.daemonsets.cpu, memory - overhead.daemonsets.memory_gib


def wandb_pods(catalog: Catalog, preset: str, tier: str, products: str) -> list[Pod]:
    """Every pod W&B runs at this preset, at replica minimums: the chart's (and weave-trace with
    Weave), the operator, and in dev with Weave the chart's in-cluster ClickHouse."""
    ref = catalog.reference
    chosen = ref.app_presets[preset]
    weave = products in ("weave", "both")
    requests = list(chosen.pods) + (list(chosen.weave_pods) if weave else [])
    pods = [Pod(r.component, r.cpu, r.memory_gib) for r in requests for _ in range(r.replicas)]
    extras = [("operator", ref.app_extra_pods.operator)]
    # Production Weave needs an external ClickHouse (the app layer requires clickhouse_host).
    if weave and tier != "prod":
        extras.append(("clickhouse", ref.app_extra_pods.in_cluster_clickhouse))
    pods += [Pod(name, r.cpu, r.memory_gib) for name, r in extras for _ in range(r.replicas)]
    return pods


def nodes_needed(pods: list[Pod], cpu: float, memory_gib: float) -> int | None:
    """Nodes of (cpu, memory) that hold ``pods``, placed first-fit in decreasing order of CPU then
    memory; None when a pod is larger than a node."""
    free: list[list[float]] = []
    for pod in sorted(pods, key=lambda p: (p.cpu, p.memory_gib), reverse=True):
        if pod.cpu > cpu + EPSILON or pod.memory_gib > memory_gib + EPSILON:
            return None
        for node in free:
            if node[0] + EPSILON >= pod.cpu and node[1] + EPSILON >= pod.memory_gib:
                node[0] -= pod.cpu
                node[1] -= pod.memory_gib
                break
        else:
            free.append([cpu - pod.cpu, memory_gib - pod.memory_gib])
    return len(free)


def fit(catalog: Catalog, tier: str, products: str, machine_name: str, machine: MachineType) -> Capacity:
    """The largest preset up to the tier's target whose pods each fit a node of ``machine``,
    and how many such nodes its pods need."""
    ref = catalog.reference
    target = ref.app_sizes[tier][products]
    cpu, memory = allocatable(catalog.cloud.node_overhead, machine)
    cpu -= ref.wandb_daemonset.cpu
    memory -= ref.wandb_daemonset.memory_gib
    for preset in reversed(PRESETS[: PRESETS.index(target) + 1]):
        pods = wandb_pods(catalog, preset, tier, products)
        nodes = nodes_needed(pods, cpu, memory)
        if nodes is not None:
            return Capacity(
                preset=preset,
                target=target,
                nodes=nodes,
                node_cpu=round(cpu, 2),
                node_memory_gib=round(memory, 2),
                requested_cpu=round(math.fsum(p.cpu for p in pods), 2),
                requested_memory_gib=round(math.fsum(p.memory_gib for p in pods), 2),
                pods=len(pods),
            )
    raise CatalogError(
        catalog.path,
        f"nodes.{tier}.{products}",
        f"{machine_name} leaves {cpu:.2f} cores and {memory:.1f} GiB to pods, too little for the largest pod of "
        "W&B's smallest size preset (generator/capacity.py)",
    )
