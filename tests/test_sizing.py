"""The sizing engine against the reference tables, typed here by hand from requirements.md."""

from __future__ import annotations

import pytest

from generator.catalog import load_catalog
from generator.sizing import ENV_TIER, size

# requirements.md, "Machine types per node" (typed, not read from the catalog).
NODE_TABLE = {
    ("aws", "dev"): {"models": "r6i.large", "weave": "r6i.xlarge", "both": "r6i.xlarge"},
    ("aws", "prod"): {"models": "r6i.2xlarge", "weave": "r6i.4xlarge", "both": "r6i.4xlarge"},
    ("gcp", "dev"): {"models": "n2-highmem-2", "weave": "n2-highmem-4", "both": "n2-highmem-4"},
    ("gcp", "prod"): {"models": "n2-highmem-8", "weave": "n2-highmem-16", "both": "n2-highmem-16"},
    ("azure", "dev"): {"models": "Standard_E2_v5", "weave": "Standard_E4_v5", "both": "Standard_E4_v5"},
    ("azure", "prod"): {"models": "Standard_E8_v5", "weave": "Standard_E16_v5", "both": "Standard_E16_v5"},
}
DB_TABLE = {
    ("aws", "dev"): "db.r6g.large",
    ("aws", "prod"): "db.r6g.2xlarge",
    ("gcp", "dev"): "db-n1-highmem-2",
    ("gcp", "prod"): "db-n1-highmem-8",
    ("azure", "dev"): "MO_Standard_E2ds_v4",
    ("azure", "prod"): "MO_Standard_E8ds_v4",
}
# requirements.md, "Sizing": (cores, memory GB, disk GB) per node.
NODE_REQUIREMENT = {
    ("dev", "models"): (2, 16, 100),
    ("prod", "models"): (8, 64, 100),
    ("dev", "weave"): (4, 32, 100),
    ("prod", "weave"): (12, 96, 100),
    ("dev", "both"): (4, 32, 100),
    ("prod", "both"): (16, 128, 100),
}
DB_REQUIREMENT = {"dev": (2, 16, 100), "prod": (8, 64, 500)}

ALL = [(c, e, p) for (c, e) in NODE_TABLE for p in ("models", "weave", "both")]


@pytest.mark.parametrize("cloud,env,products", ALL)
def test_node_type_is_the_tables_choice(cloud: str, env: str, products: str) -> None:
    sizing = size(load_catalog(cloud), env, products)
    assert sizing.node.machine_type == NODE_TABLE[(cloud, env)][products]
    assert sizing.node.disk_gib == NODE_REQUIREMENT[(env, products)][2]


@pytest.mark.parametrize("cloud,env,products", ALL)
def test_node_type_meets_requirement_and_is_x86(cloud: str, env: str, products: str) -> None:
    """R-K8S-5 and the sizing rows: every chosen node type is x86_64 and big enough."""
    catalog = load_catalog(cloud)
    sizing = size(catalog, env, products)
    machine = catalog.machine(sizing.node.machine_type)
    cores, memory, _disk = NODE_REQUIREMENT[(env, products)]
    assert machine.arch == "x86_64"
    assert machine.vcpu >= cores
    assert machine.memory_gib >= memory


@pytest.mark.parametrize("cloud,env", list(DB_TABLE))
@pytest.mark.parametrize("products", ["models", "weave", "both"])
def test_db_row_is_the_same_for_every_mix(cloud: str, env: str, products: str) -> None:
    sizing = size(load_catalog(cloud), env, products)
    assert sizing.db.machine_class == DB_TABLE[(cloud, env)]
    assert sizing.db.disk_gib == DB_REQUIREMENT[env][2]
    assert (sizing.db.requirement.cpu, sizing.db.requirement.memory_gib) == DB_REQUIREMENT[env][:2]


@pytest.mark.parametrize("cloud,env", list(DB_TABLE))
def test_db_class_meets_cpu_and_memory_or_carries_a_waiver(cloud: str, env: str) -> None:
    """GCP's table names db-n1-highmem tiers below the MySQL memory row; that must be explicit."""
    catalog = load_catalog(cloud)
    sizing = size(catalog, env, "both")
    machine = catalog.machine(sizing.db.machine_class)
    cores, memory, _ = DB_REQUIREMENT[env]
    assert machine.vcpu >= cores
    if machine.memory_gib < memory:
        assert sizing.db.waiver and "reference table" in sizing.db.waiver
    else:
        assert sizing.db.waiver is None


def test_test_env_is_the_dev_tier() -> None:
    assert ENV_TIER == {"dev": "dev", "test": "dev", "prod": "prod"}
    for cloud in ("aws", "gcp", "azure"):
        catalog = load_catalog(cloud)
        assert size(catalog, "test", "weave") == size(catalog, "dev", "weave")


@pytest.mark.parametrize("env,zones,min_nodes", [("dev", 2, 2), ("test", 2, 2), ("prod", 3, 3)])
def test_topology_survives_loss_of_a_node(env: str, zones: int, min_nodes: int) -> None:
    """R-LAYER-1: at least 2 nodes in 2 zones everywhere, 3 zones in prod."""
    sizing = size(load_catalog("aws"), env, "models")
    assert sizing.node.zones == zones
    assert sizing.node.min_nodes == min_nodes >= 2
    assert sizing.node.desired_nodes >= sizing.node.min_nodes


@pytest.mark.parametrize(
    "cloud,family,env,products,expected",
    [
        ("aws", "m6i", "dev", "models", "m6i.xlarge"),  # 2 cores/16 GB: m6i.large has only 8 GiB
        ("aws", "r7i", "prod", "weave", "r7i.4xlarge"),
        ("gcp", "n2d-highmem", "prod", "both", "n2d-highmem-16"),
        ("azure", "Standard_E*s_v5", "dev", "both", "Standard_E4s_v5"),
    ],
)
def test_node_family_picks_smallest_fitting_type(cloud: str, family: str, env: str, products: str, expected: str) -> None:
    sizing = size(load_catalog(cloud), env, products, node_family=family)
    assert sizing.node.machine_type == expected
