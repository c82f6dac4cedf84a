"""Issue 13: W&B must fit the nodes it is given.

Each cell's expected preset and minimum node count is worked out by hand below from the
catalog's numbers (W&B's requests per preset, each cloud's kubelet reservation and DaemonSets),
then checked against what gen-tf generates: the node pool's minimum and the app layer's preset."""

from __future__ import annotations

import math

import pytest

from conftest import APP_DOMAIN, DOMAIN_ARGS, blocks, parsed, variable_default
from generator.capacity import Pod, allocatable, fit, nodes_needed, wandb_pods
from generator.catalog import load_catalog

# (cloud, env, products) -> (W&B size preset, minimum nodes). Worked by hand:
# - AWS r6i.large leaves 1.55 cores per node (2 - 0.07 kubelet - 0.18 system - 0.2 otel): each of
#   the small preset's seven pods of >= 1 core (app, console, 2 parquet, 2 weave at 1.1, operator
#   0.4 shares one) needs a node of its own -> 6 (the operator fits beside a 1-core pod).
# - 16-core nodes leave 15.51 (EKS), 15.29 (GKE), 14.94 (AKS) cores: the large preset's parquet
#   pod (15 cores) fits EKS and GKE nodes, not AKS's, whose W&B falls back to small.
# - 8-core nodes never hold the medium preset's 15-core parquet pod: prod models runs small.
EXPECTED = {
    ("aws", "dev", "models"): ("small", 6),
    ("aws", "dev", "weave"): ("small", 4),
    ("aws", "dev", "both"): ("small", 4),
    ("aws", "prod", "models"): ("small", 3),
    ("aws", "prod", "weave"): ("large", 3),
    ("aws", "prod", "both"): ("large", 3),
    ("gcp", "dev", "models"): ("small", 7),
    ("gcp", "dev", "weave"): ("small", 4),
    ("gcp", "dev", "both"): ("small", 4),
    ("gcp", "prod", "models"): ("small", 3),
    ("gcp", "prod", "weave"): ("large", 4),
    ("gcp", "prod", "both"): ("large", 4),
    ("azure", "dev", "models"): ("small", 7),
    ("azure", "dev", "weave"): ("small", 4),
    ("azure", "dev", "both"): ("small", 4),
    ("azure", "prod", "models"): ("small", 3),
    ("azure", "prod", "weave"): ("small", 3),
    ("azure", "prod", "both"): ("small", 3),
}
MIN_VARIABLE = {"aws": "node_min_size", "gcp": "node_min_size", "azure": "node_min_count"}
APP = ("--layer", "app")


@pytest.mark.parametrize("cloud,env,products", sorted(EXPECTED))
def test_every_cell_fits_its_nodes(cloud: str, env: str, products: str) -> None:
    preset, nodes = EXPECTED[(cloud, env, products)]
    infra = parsed(cloud, env, products, *DOMAIN_ARGS)
    app = parsed(cloud, env, products, *APP, *APP_DOMAIN)
    assert variable_default(infra, MIN_VARIABLE[cloud]) == nodes
    assert variable_default(app, "sized_wandb_size") == preset
    # And the placement behind it holds: every pod fits, in that many nodes, on that node type.
    catalog = load_catalog(cloud)
    tier = "prod" if env == "prod" else "dev"
    machine_name = catalog.cloud.nodes[tier][products]
    machine = catalog.machine(machine_name)
    cpu, memory = allocatable(catalog.cloud.node_overhead, machine)
    cpu -= catalog.reference.wandb_daemonset.cpu
    memory -= catalog.reference.wandb_daemonset.memory_gib
    pods = wandb_pods(catalog, preset, tier, products)
    assert nodes_needed(pods, cpu, memory) <= nodes
    assert math.fsum(p.cpu for p in pods) <= nodes * cpu and math.fsum(p.memory_gib for p in pods) <= nodes * memory


def test_allocatable_follows_each_clouds_formula() -> None:
    """The worked examples of each cloud's documentation (catalogs' node_overhead sources)."""
    aws = load_catalog("aws").cloud
    cpu, memory = allocatable(aws.node_overhead, aws.machine_types["r6i.4xlarge"])
    # EKS: 16 - 0.11 cores; 128 GiB - (255 + 11 x 234) MiB - 100 MiB; minus the system DaemonSets.
    assert cpu == pytest.approx(16 - 0.11 - 0.18)
    assert memory == pytest.approx(128 - (255 + 11 * 234) / 1024 - 0.1 - 0.1)
    gcp = load_catalog("gcp").cloud
    cpu, memory = allocatable(gcp.node_overhead, gcp.machine_types["n2-highmem-16"])
    # GKE: 25% of 4 + 20% of 4 + 10% of 8 + 6% of 112 = 9.32 GiB reserved.
    assert memory == pytest.approx(128 - 9.32 - 0.1 - 0.45)
    azure = load_catalog("azure").cloud
    cpu, memory = allocatable(azure.node_overhead, azure.machine_types["Standard_E16_v5"])
    # AKS: 60 + 40 + 2 x 20 + 12 x 10 = 260 millicores; 20 MB x 60 pods + 50 MB (under 25%).
    assert cpu == pytest.approx(16 - 0.26 - 0.6)
    assert memory == pytest.approx(128 - (47.7 + 19.07 * 60) / 1024 - 0.1 - 1.3)


def test_first_fit_decreasing_placement() -> None:
    pods = [Pod("a", 3, 1), Pod("b", 2, 1), Pod("c", 2, 1), Pod("d", 1, 1)]
    assert nodes_needed(pods, 4, 10) == 2  # 3+1, 2+2
    assert nodes_needed(pods, 3.5, 10) == 3  # 3, 2+1, 2
    assert nodes_needed([Pod("big", 5, 1)], 4, 10) is None


def test_a_preset_too_large_for_the_node_falls_back() -> None:
    """Prod models: the tier asks medium, whose parquet pod (15 cores) no 8-core node holds."""
    catalog = load_catalog("aws")
    capacity = fit(catalog, "prod", "models", "r6i.2xlarge", catalog.machine("r6i.2xlarge"))
    assert (capacity.target, capacity.preset, capacity.lowered) == ("medium", "small", True)
    description = blocks(parsed("aws", "prod", "models", *APP, *APP_DOMAIN), "variable")["sized_wandb_size"]["description"]
    assert "the tier's medium runs a parquet pod of 15 cores, more than the 7.53 cores such a node leaves" in description


def test_weave_in_dev_counts_the_in_cluster_clickhouse() -> None:
    catalog = load_catalog("aws")
    dev = {p.name for p in wandb_pods(catalog, "small", "dev", "both")}
    prod = {p.name for p in wandb_pods(catalog, "small", "prod", "both")}
    assert "clickhouse" in dev and "clickhouse" not in prod  # prod needs an external ClickHouse
    assert "weave-trace" in dev and "weave-trace" not in {p.name for p in wandb_pods(catalog, "small", "dev", "models")}
