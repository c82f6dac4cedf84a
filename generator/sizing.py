"""The sizing engine: (cloud, env, products) -> node and database sizes, from the catalog.

The reference tables give a machine type per cell (requirements.md, "Machine types
per node"); those are used as they are. With a node family the engine instead
picks the smallest type of that family that meets the cell's CPU and memory
requirement. Only node families qualify: every member a Kubernetes node type
(``service: kubernetes``, never a database class) and x86 by both its ``arch``
and its name (R-K8S-5 forbids ARM nodes; see ``arm_type_pattern``).
"""

from __future__ import annotations

from dataclasses import dataclass

from .capacity import Capacity, fit
from .catalog import Catalog, MachineType, Resources
from .errors import OptionError

# --env accepts test as a synonym of the dev tier (the tables say "Test/Dev").
ENV_TIER = {"dev": "dev", "test": "dev", "prod": "prod"}


def _gib(value: float) -> float | int:
    """Whole numbers print as 16, not 16.0."""
    return int(value) if float(value).is_integer() else value


@dataclass(frozen=True)
class NodeSize:
    machine_type: str
    vcpu: int
    memory_gib: float
    disk_gib: int
    zones: int
    min_nodes: int
    desired_nodes: int
    max_nodes: int
    requirement: Resources
    premium_storage: bool | None
    # The catalog's pattern of ARM type names, which the module's node-type
    # variable validation places as it is, so Python and Terraform agree (R-K8S-5).
    arm_type_pattern: str


@dataclass(frozen=True)
class DbSize:
    machine_class: str
    vcpu: int
    memory_gib: float
    disk_gib: int
    requirement: Resources
    waiver: str | None


@dataclass(frozen=True)
class Sizing:
    tier: str
    # W&B's size preset on these nodes and what its pods need of them (issue 13).
    capacity: Capacity
    node: NodeSize
    db: DbSize


def pick_from_family(catalog: Catalog, family: str, need: Resources) -> tuple[str, MachineType]:
    """The smallest type of node family ``family`` meeting ``need`` (fewest vCPU, then least memory)."""
    members = {n: m for n, m in catalog.cloud.machine_types.items() if m.family == family}
    allowed = ", ".join(node_families(catalog))
    if not members:
        raise OptionError("--node-family", f"unknown family {family!r}; allowed: {allowed}")
    services = sorted({m.service for m in members.values() if m.service != "kubernetes"})
    if services:
        raise OptionError(
            "--node-family", f"{family} is a database family (service: {services[0]}), not a Kubernetes node family; allowed: {allowed}"
        )
    if any(catalog.cloud.is_arm(n) for n in members):
        raise OptionError(
            "--node-family",
            f"{family} is an ARM family; Kubernetes nodes must be x86_64 (R-K8S-5); allowed: {allowed}",
        )
    fitting = sorted(
        ((m.vcpu, m.memory_gib, n) for n, m in members.items() if m.meets(need)),
    )
    if not fitting:
        raise OptionError(
            "--node-family",
            f"no {family} type has {need.cpu} cores and {need.memory_gib:g} GB; the largest listed is too small",
        )
    name = fitting[0][2]
    return name, members[name]


def node_families(catalog: Catalog) -> list[str]:
    """Families usable for Kubernetes nodes: every member a node type (``service: kubernetes``)
    and x86 by ``arch`` and by name (R-K8S-5)."""
    cat = catalog.cloud
    families: dict[str, bool] = {}
    for name, machine in cat.machine_types.items():
        usable = machine.service == "kubernetes" and not cat.is_arm(name)
        families[machine.family] = families.get(machine.family, True) and usable
    return sorted(f for f, usable in families.items() if usable)


def size(catalog: Catalog, env: str, products: str, node_family: str | None = None) -> Sizing:
    tier = ENV_TIER[env]
    ref = catalog.reference
    need = ref.node_requirements[tier][products]
    policy = ref.tiers[tier]
    if node_family:
        node_type, machine = pick_from_family(catalog, node_family, need)
    else:
        node_type = catalog.cloud.nodes[tier][products]
        machine = catalog.machine(node_type)
    db_choice = catalog.cloud.mysql[tier]
    db_machine = catalog.machine(db_choice.type)
    db_need = ref.mysql_requirements[tier]
    # Issue 13: W&B must fit the nodes. The tier's minimum rises to what W&B's pods need
    # (the maximum keeps its headroom above it); the preset falls to one whose pods fit a node.
    capacity = fit(catalog, tier, products, node_type, machine)
    min_nodes = max(policy.min_nodes, capacity.nodes)
    headroom = policy.max_nodes - policy.min_nodes
    return Sizing(
        tier=tier,
        capacity=capacity,
        node=NodeSize(
            machine_type=node_type,
            vcpu=machine.vcpu,
            memory_gib=_gib(machine.memory_gib),
            disk_gib=need.disk_gib,
            zones=policy.zones,
            min_nodes=min_nodes,
            desired_nodes=max(policy.desired_nodes, min_nodes),
            max_nodes=max(policy.max_nodes, min_nodes + headroom),
            requirement=need,
            premium_storage=machine.premium_storage,
            arm_type_pattern=catalog.cloud.arm_type_pattern,
        ),
        db=DbSize(
            machine_class=db_choice.type,
            vcpu=db_machine.vcpu,
            memory_gib=_gib(db_machine.memory_gib),
            disk_gib=db_need.disk_gib,
            requirement=db_need,
            waiver=db_choice.waiver,
        ),
    )
