"""The sizing engine against the reference tables, typed here by hand from requirements.md."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import blocks, generate, parse, run_cli, terraform, terraform_or_skip
from generator.catalog import load_catalog
from generator.errors import OptionError
from generator.options import parse_options
from generator.plan import build_plan
from generator.render import hcl, render_topic
from generator.resources import data_dir
from generator.sizing import ENV_TIER, node_families, size

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
    # The tier's minimum, raised where W&B's pods need more nodes (issue 13, tests/test_capacity.py).
    assert sizing.node.min_nodes >= min_nodes >= 2
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


# ---- R-K8S-5: node families are Kubernetes node types, x86 by arch and by name ---------

# The node families each shipped catalog offers (typed from the catalogs' comments, not computed).
NODE_FAMILIES = {
    "aws": ["m6i", "r6i", "r7i"],
    "gcp": ["n2-highmem", "n2-standard", "n2d-highmem"],
    "azure": ["Standard_D*s_v5", "Standard_E*_v5", "Standard_E*s_v5"],
}
# Database-only families: never Kubernetes node types.
DB_FAMILIES = [
    ("aws", "db.r6i"),
    ("aws", "db.r6g"),
    ("gcp", "db-n1-highmem"),
    ("azure", "MO_Standard_E*ds_v4"),
]
# ARM and x86 names per cloud, typed by hand from the clouds' naming rules
# (AWS Graviton families; GCP Tau T2A, Axion C4A/N4A, A4X on NVIDIA Grace;
# Azure: a "p" among the additive feature letters).
ARM_NAMES = {
    "aws": [
        "a1.large", "a1.metal", "t4g.micro", "m6g.large", "m6gd.xlarge", "c6gn.2xlarge", "r6g.4xlarge", "m7gd.xlarge",
        "c7gn.large", "r8g.4xlarge", "r8gd.large", "m8gb.large", "x2gd.large", "x8g.large", "i4g.large",
        "im4gn.large", "is4gen.large", "hpc7g.4xlarge", "g5g.xlarge", "db.r6g.large", "db.r7g.xlarge",
    ],
    "gcp": ["t2a-standard-4", "c4a-highmem-8", "c4a-standard-16", "c4a-highcpu-4-lssd", "n4a-standard-4", "a4x-highgpu-4g"],
    "azure": [
        "Standard_D4ps_v5", "Standard_D4pds_v5", "Standard_D4pls_v5", "Standard_D4plds_v5", "Standard_E8pds_v5",
        "Standard_E2ps_v5", "Standard_D4pls_v6", "Standard_D4plds_v6", "Standard_D2ps_v6", "Standard_E4pds_v6",
        "Standard_B2pts_v2", "Standard_B2pls_v2", "Standard_B2ps_v2",
    ],
}
X86_NAMES = {
    "aws": [
        "m6i.large", "r7iz.2xlarge", "r6a.large", "m5.large", "m5zn.large", "c7i-flex.large", "m8i-flex.large",
        "g4dn.xlarge", "g4ad.xlarge", "g6e.xlarge", "gr6.4xlarge", "hpc6a.48xlarge", "hpc7a.96xlarge", "i4i.large",
        "inf2.xlarge", "trn1n.32xlarge", "x2iedn.xlarge", "u-6tb1.metal", "p4d.24xlarge", "dl1.24xlarge",
        "z1d.large", "d3en.xlarge", "mac1.metal", "cg1.4xlarge", "db.r6i.large", "db.r5.large",
    ],
    "gcp": [
        "n2-highmem-2", "n2d-highmem-4", "n4-standard-4", "n4d-standard-4", "c4-standard-4", "c4d-standard-4",
        "c3-standard-4", "t2d-standard-4", "e2-standard-4", "a3-highgpu-8g", "a4-highgpu-8g", "db-n1-highmem-2",
    ],
    "azure": [
        "Standard_E4_v5", "Standard_D4s_v5", "Standard_D4ds_v5", "Standard_D4as_v5", "Standard_D4ls_v6",
        "Standard_D4lds_v6", "Standard_E4-2s_v5", "Standard_B2ts_v2", "Standard_B2als_v2", "Standard_E96ias_v5",
        "Standard_M416ms_v2", "Standard_NC24ads_A100_v4", "Standard_DC4as_cc_v5", "Standard_NP10s",
        "Standard_HB120rs_v3", "Standard_L8s_v3", "MO_Standard_E2ds_v4",
    ],
}


def _raw_catalog(cloud: str) -> dict:
    return yaml.safe_load((data_dir("catalogs") / f"{cloud}.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("cloud", list(NODE_FAMILIES))
def test_node_families_are_the_x86_kubernetes_families(cloud: str) -> None:
    """Only families of Kubernetes node types that are x86 by arch and name; no DB class family, no ARM family."""
    assert node_families(load_catalog(cloud)) == NODE_FAMILIES[cloud]


@pytest.mark.parametrize("cloud,family", DB_FAMILIES)
def test_node_family_refuses_database_families(cloud: str, family: str) -> None:
    with pytest.raises(OptionError) as info:
        size(load_catalog(cloud), "dev", "both", node_family=family)
    message = str(info.value)
    assert "--node-family" in message and "not a Kubernetes node family" in message
    assert message.endswith("allowed: " + ", ".join(NODE_FAMILIES[cloud]))


@pytest.mark.parametrize("cloud,family", DB_FAMILIES)
def test_cli_node_family_database_family_is_exit_2(cloud: str, family: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The reviewer's commands: a DB-only family as --node-family is bad input, not a node type."""
    code, out, err = run_cli(["--cloud", cloud, "--env", "dev", "--products", "both", "--node-family", family], capsys)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and "--node-family" in err and "not a Kubernetes node family" in err


@pytest.mark.parametrize("cloud", list(NODE_FAMILIES))
def test_unknown_family_error_lists_only_node_families(cloud: str) -> None:
    with pytest.raises(OptionError) as info:
        size(load_catalog(cloud), "dev", "both", node_family="x9-nope")
    allowed = str(info.value).split("allowed: ", 1)[1]
    assert allowed.split(", ") == NODE_FAMILIES[cloud]
    for _cloud, family in DB_FAMILIES:
        assert family not in allowed.split(", ")


@pytest.mark.parametrize("cloud", list(NODE_FAMILIES))
def test_every_shipped_type_states_its_service(cloud: str) -> None:
    """The catalogs say what each type is for (no silent default): DB classes mysql, the rest kubernetes."""
    raw = _raw_catalog(cloud)["machine_types"]
    db_prefix = {"aws": "db.", "gcp": "db-", "azure": "MO_"}[cloud]
    for name, entry in raw.items():
        assert "service" in entry, name
        assert entry["service"] == ("mysql" if name.startswith(db_prefix) else "kubernetes"), name
    catalog = load_catalog(cloud)
    for row in catalog.cloud.nodes.values():
        assert all(catalog.machine(t).service == "kubernetes" for t in row.values())
    assert all(catalog.machine(c.type).service == "mysql" for c in catalog.cloud.mysql.values())


@pytest.mark.parametrize("cloud", list(NODE_FAMILIES))
def test_arm_pattern_agrees_with_arch_for_every_catalog_type(cloud: str) -> None:
    """Both ways: every arm64 type's name matches arm_type_pattern, no x86_64 type's name does."""
    cat = load_catalog(cloud).cloud
    for name, machine in cat.machine_types.items():
        assert bool(re.search(cat.arm_type_pattern, name)) == (machine.arch == "arm64"), name


@pytest.mark.parametrize("cloud", list(NODE_FAMILIES))
def test_arm_pattern_matches_arm_names_and_no_x86_name(cloud: str) -> None:
    pattern = load_catalog(cloud).cloud.arm_type_pattern
    for name in ARM_NAMES[cloud]:
        assert re.search(pattern, name), name
    for name in X86_NAMES[cloud]:
        assert not re.search(pattern, name), name


ARM_VARIABLE = {"aws": "node_instance_type", "gcp": "node_machine_type", "azure": "node_vm_size"}


@pytest.mark.parametrize("cloud", list(NODE_FAMILIES))
def test_template_places_the_catalogs_arm_pattern(cloud: str) -> None:
    """Python and Terraform use one pattern: the variable's validation places the catalog's."""
    pattern = load_catalog(cloud).cloud.arm_type_pattern
    text = generate(cloud, "dev", "models")
    assert f"!can(regex({hcl(pattern)}, var.{ARM_VARIABLE[cloud]}))" in text


# Sample values for variables a module requires (no default), so terraform can plan it.
_TF_SAMPLES = {
    "domain": "wandb.example.com",
    "project_id": "wandb-project-123",
    "subscription_id": "00000000-0000-0000-0000-000000000000",
}


def _plan_variables(cloud: str, tmp: Path, node_type: str) -> subprocess.CompletedProcess[str]:
    """terraform plan of the module's variables alone (no provider needed) with one node type."""
    plan = build_plan(parse_options({"cloud": cloud, "env": "prod", "products": "both"}), load_catalog(cloud))
    text = render_topic(cloud, "variables", plan.context())
    (tmp / "variables.tf").write_text(text)
    required = [n for n, body in blocks(parse(text), "variable").items() if "default" not in body]
    samples = [f"-var={name}={_TF_SAMPLES[name]}" for name in required]
    args = ["plan", "-input=false", "-no-color", "-refresh=false", *samples, f"-var={ARM_VARIABLE[cloud]}={node_type}"]
    return terraform(args, tmp)


@pytest.mark.terraform
@pytest.mark.parametrize(
    "cloud,node_type,ok",
    [
        ("aws", "a1.large", False),
        ("aws", "im4gn.large", False),
        ("aws", "is4gen.large", False),
        ("aws", "hpc7g.4xlarge", False),
        ("aws", "m6g.large", False),
        ("aws", "m6i.large", True),
        ("aws", "g4dn.xlarge", True),
        ("gcp", "t2a-standard-4", False),
        ("gcp", "c4a-highmem-8", False),
        ("gcp", "n4a-standard-4", False),
        ("gcp", "n2-standard-8", True),
        ("gcp", "c4-standard-8", True),
        ("azure", "Standard_D4pls_v6", False),
        ("azure", "Standard_E8pds_v5", False),
        ("azure", "Standard_B2pts_v2", False),
        ("azure", "Standard_E8_v5", True),
        ("azure", "Standard_D4lds_v6", True),
    ],
)
def test_terraform_refuses_arm_node_types(tmp_path: Path, cloud: str, node_type: str, ok: bool) -> None:
    """R-K8S-5 in the module itself: terraform evaluates the node-type validation."""
    terraform_or_skip()
    proc = _plan_variables(cloud, tmp_path, node_type)
    if ok:
        assert proc.returncode == 0, proc.stderr
    else:
        assert proc.returncode != 0
        assert "Invalid value for variable" in proc.stderr and "R-K8S-5" in proc.stderr, proc.stderr
