"""The files written beside a module (issue 12 §4): terraform.tfvars.example and README.md.

terraform.tfvars.example must be valid HCL, and agree with the module, once every example is
uncommented; the README carries a hand-written part and a terraform-docs section whose tables
match the module as an independent parser (python-hcl2) reads it.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from conftest import PLUGIN_MIRROR, blocks, parse, terraform, terraform_or_skip
from generator.cli import main

CLOUDS = ("aws", "gcp", "azure")
LAYERS = ("infra", "app")
PROD = ("--env", "prod", "--products", "both", "--domain", "wandb.example.com")
REGISTRY = "registry.corp.example/wandb"
ADMIN = ("--admin-cidr", "203.0.113.0/24")
AZURE_VNET = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/hub"
BYO = {
    "aws": ("--vpc-id", "vpc-0123456789abcdef0", *[a for n in (1, 2) for a in ("--private-subnet-id", f"subnet-0123456789abcdef{n}")],
            *[a for n in (3, 4) for a in ("--public-subnet-id", f"subnet-0123456789abcdef{n}")]),
    "gcp": ("--vpc-id", "shared-vpc", "--private-subnet-id", "wandb-nodes"),
    "azure": ("--vpc-id", AZURE_VNET, *[a for s in ("aks", "mysql", "appgw") for a in ("--private-subnet-id", f"{AZURE_VNET}/subnets/{s}")]),
}
# Option sets every cloud and layer is checked with: the defaults (prod), dev with no domain (a
# required placeholder), tags (a multi-line map default), air-gapped, and an existing network.
OPTION_SETS = {
    "prod": lambda cloud: PROD,
    "dev-no-domain": lambda cloud: ("--env", "dev", "--products", "models"),
    "tags": lambda cloud: (*PROD, "--tag", "team=ml", "--tag", "cost-center=42", "--alarm-email", "ops@example.com"),
    "air-gapped": lambda cloud: (*PROD, "--air-gapped", "--image-registry", REGISTRY),
    "byo-network": lambda cloud: (*PROD, *BYO[cloud], *ADMIN),
}
# Options that shape only the infrastructure (gen-tf refuses them with --layer app).
INFRA_ONLY = {"tags", "byo-network"}
CASES = [(c, layer, o) for c in CLOUDS for layer in LAYERS for o in OPTION_SETS if layer == "infra" or o not in INFRA_ONLY]
CASE_IDS = [f"{c}-{layer}-{o}" for c, layer, o in CASES]

# Valid values for the variables a module requires, replacing the example's placeholders.
SAMPLES: dict[str, str] = {
    "domain": '"wandb.example.com"',
    "project_id": '"wandb-project-123"',
    "subscription_id": '"00000000-0000-0000-0000-000000000000"',
    "tenant_id": '"00000000-0000-0000-0000-000000000000"',
    "wandb_identity_client_id": '"00000000-0000-0000-0000-000000000000"',
    "vpc_id": '"vpc-0abc123"',
    "lb_controller_role_arn": '"arn:aws:iam::123456789012:role/wandb-lb-controller"',
    "wandb_role_arn": '"arn:aws:iam::123456789012:role/wandb"',
    "target_group_arn": '"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/wandb/0123456789abcdef"',
    "traces_target_group_arn": '"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/traces/0123456789abcdef"',
    "console_target_group_arn": '"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/console/0123456789abcdef"',
    "db_secret_arn": '"arn:aws:secretsmanager:us-east-1:123456789012:secret:wandb-db"',
    "kms_key_arn": '"arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"',
    "clickhouse_host": '"clickhouse.example.com"',
    "db_private_ip": '"10.20.0.5"',
    "service_account_email": '"wandb@wandb-project-123.iam.gserviceaccount.com"',
    "oidc_issuer_url": '"https://oidc.example.com/issuer/"',
    "storage_key_secret_id": '"https://wandb-kv.example.com/secrets/storage-key"',
    "db_port": "3306",
}
SAMPLES_BY_CLOUD: dict[tuple[str, str], str] = {
    ("gcp", "db_password_secret_id"): '"projects/wandb-project-123/secrets/wandb-db-password"',
    ("azure", "db_password_secret_id"): '"https://wandb-kv.example.com/secrets/db-password"',
}


@lru_cache(maxsize=None)
def _module(cloud: str, layer: str, *extra: str) -> dict[str, str]:
    """The files gen-tf --out-dir writes for these options (cached: output is deterministic)."""
    argv = ["--cloud", cloud, *extra]
    if layer != "infra":
        argv += ["--layer", layer]
    target = Path(tempfile.mkdtemp(prefix="gen-tf-moduledoc-"))
    try:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main([*argv, "--out-dir", str(target)])
        assert code == 0, err.getvalue()
        return {
            str(p.relative_to(target)): p.read_text()
            for p in sorted(target.rglob("*"))
            if p.is_file() and p.name != ".gen-tf-manifest.json"
        }
    finally:
        shutil.rmtree(target, ignore_errors=True)


def module(cloud: str, layer: str, options: str) -> dict[str, str]:
    return _module(cloud, layer, *OPTION_SETS[options](cloud))


def uncomment(example: str) -> str:
    """Every example line uncommented: in each paragraph, from its first ``# name = ...`` line on,
    the leading ``# `` (or a lone ``#``) comes off; descriptions and the header stay comments."""
    out: list[str] = []
    inside = False
    for line in example.splitlines():
        if not line.strip():
            inside = False
        elif not inside and re.match(r"^# [A-Za-z_][A-Za-z0-9_-]* = ", line):
            inside = True
        if inside and line.startswith("#"):
            line = line[2:] if line.startswith("# ") else line[1:]
        out.append(line)
    return "\n".join(out) + "\n"


def with_samples(text: str, cloud: str) -> str:
    """The uncommented example with each required placeholder replaced by a valid sample value."""

    def sample(match: re.Match[str]) -> str:
        name = match.group(1)
        value = SAMPLES_BY_CLOUD.get((cloud, name), SAMPLES.get(name))
        return f"{name} = {value}" if value else match.group(0)

    return re.sub(r'^([a-z_][a-z0-9_]*) = (?:"CHANGE-ME"|0)$', sample, text, flags=re.M)


def _variables(files: dict[str, str]) -> dict[str, dict[str, Any]]:
    return blocks(parse(files["variables.tf"]), "variable")


# ---- types, as python-hcl2 reports them ("${object({a = string})}") ------------------------

def _type_tokens(text: str) -> list[str]:
    return re.findall(r"[A-Za-z_][A-Za-z0-9_-]*|\"[^\"]*\"|[(){}\[\],=]", text)


def _parse_type(tokens: list[str], i: int = 0) -> tuple[Any, int]:
    word = tokens[i]
    if word in ("list", "set", "map"):
        inner, i = _parse_type(tokens, i + 2)
        return (word, inner), i + 1
    if word == "tuple":
        i += 3
        items = []
        while tokens[i] != "]":
            item, i = _parse_type(tokens, i)
            items.append(item)
            i += tokens[i] == ","
        return ("tuple", items), i + 2
    if word == "object":
        i += 3
        attrs: dict[str, tuple[Any, bool]] = {}
        while tokens[i] != "}":
            name = tokens[i].strip('"')
            optional = tokens[i + 2] == "optional"
            attr, i = _parse_type(tokens, i + 4 if optional else i + 2)
            if optional:
                depth = 1
                while depth:  # the rest of optional(type, default)
                    depth += {"(": 1, ")": -1}.get(tokens[i], 0)
                    i += 1
            attrs[name] = (attr, optional)
            i += tokens[i] == ","
        return ("object", attrs), i + 2
    return (word,), i + 1


def declared_type(text: str) -> Any:
    text = text[2:-1] if text.startswith("${") else text
    return _parse_type(_type_tokens(text))[0]


def conforms(value: Any, kind: Any) -> bool:
    """Whether Terraform would accept ``value`` (as python-hcl2 parsed it) for type ``kind``."""
    name = kind[0]
    if value is None or name == "any":
        return True
    if name == "string":
        return isinstance(value, (str, int, float, bool))
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if name == "bool":
        return isinstance(value, bool)
    if name in ("list", "set"):
        return isinstance(value, list) and all(conforms(v, kind[1]) for v in value)
    if name == "tuple":
        return isinstance(value, list) and len(value) == len(kind[1]) and all(map(conforms, value, kind[1]))
    if name == "map":
        return isinstance(value, dict) and all(conforms(v, kind[1]) for v in value.values())
    if name == "object":
        attrs = kind[1]
        return (
            isinstance(value, dict)
            and set(value) <= set(attrs)
            and all(k in value for k, (_, optional) in attrs.items() if not optional)
            and all(conforms(v, attrs[k][0]) for k, v in value.items())
        )
    return False


def test_type_check_helper_can_fail() -> None:
    obj = declared_type("${object({a = string, b = optional(number, 3), c = map(list(string))})}")
    assert conforms({"a": "x", "c": {"k": ["v"]}}, obj)
    assert not conforms({"c": {}}, obj)  # a is required
    assert not conforms({"a": "x", "c": {}, "d": 1}, obj)  # no attribute d
    assert not conforms({"a": "x", "c": {"k": "v"}}, obj)
    assert not conforms("x", declared_type("list(string)"))
    assert not conforms(True, declared_type("number"))


# ---- terraform.tfvars.example ------------------------------------------------------------

def test_uncomment_leaves_descriptions_and_the_header_alone() -> None:
    example = "# Generated by gen-tf\n#\n\n# The tags.\n# tags = {\n#   a = \"b\"\n# }\n\n# The name.\nname = \"x\"\n"
    assert uncomment(example) == "# Generated by gen-tf\n#\n\n# The tags.\ntags = {\n  a = \"b\"\n}\n\n# The name.\nname = \"x\"\n"


@pytest.mark.parametrize("cloud,layer,options", CASES, ids=CASE_IDS)
def test_tfvars_example_matches_the_module(cloud: str, layer: str, options: str) -> None:
    """Uncommented, the example assigns each declared, non-sensitive variable once, with a value of
    its type (python-hcl2 and the module's own declarations); sensitive ones only as a TF_VAR hint."""
    files = module(cloud, layer, options)
    example = files["terraform.tfvars.example"]
    assert example.startswith("# Generated by gen-tf")
    values = parse(uncomment(example))
    variables = _variables(files)
    assert set(values) <= set(variables), f"assigned but not declared: {set(values) - set(variables)}"
    for name, body in variables.items():
        if body.get("sensitive"):
            assert name not in values, f"{name} is sensitive: it must stay out of the example"
            assert f"export TF_VAR_{name}=" in example
            continue
        assert name in values, f"{name} has no example"
        if "default" in body:
            assert re.search(rf"^# {name} = ", example, re.M), f"{name} has a default: its example is commented"
        else:
            assert re.search(rf"^{name} = ", example, re.M), f"{name} is required: its example is uncommented"
        value = values[name]
        if value is None:
            assert body.get("nullable") is not False, f"{name} is not nullable"
        assert conforms(value, declared_type(body["type"])), f"{name} = {value!r} is not a {body['type']}"
        if "default" in body:
            assert value == body["default"], f"{name}'s example is not its default"


@pytest.mark.parametrize("cloud,layer,options", CASES, ids=CASE_IDS)
def test_tfvars_example_is_fmt_clean_once_uncommented(tmp_path: Path, cloud: str, layer: str, options: str) -> None:
    terraform_or_skip()
    text = uncomment(module(cloud, layer, options)["terraform.tfvars.example"])
    (tmp_path / "terraform.tfvars").write_text(text)
    proc = terraform(["fmt", "-check", "-diff", "-no-color", "terraform.tfvars"], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("cloud,layer,options", CASES, ids=CASE_IDS)
def test_tfvars_example_passes_the_variable_validations(tmp_path: Path, cloud: str, layer: str, options: str) -> None:
    """terraform itself reads the uncommented example (samples for the placeholders) against the
    module's variables: every value converts to its type and passes its validations, and no
    assignment names an undeclared variable. Variables alone need no provider, so every cloud runs."""
    terraform_or_skip()
    files = module(cloud, layer, options)
    (tmp_path / "variables.tf").write_text(files["variables.tf"])
    (tmp_path / "terraform.tfvars").write_text(with_samples(uncomment(files["terraform.tfvars.example"]), cloud))
    sensitive_required = [n for n, b in _variables(files).items() if b.get("sensitive") and "default" not in b]
    args = ["plan", "-input=false", "-no-color", "-refresh=false", "-lock=false"]
    args += [f"-var={name}=sample-{name}" for name in sensitive_required]
    proc = terraform(args, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "undeclared variable" not in proc.stdout + proc.stderr


def test_a_placeholder_that_breaks_a_validation_is_caught(tmp_path: Path) -> None:
    """The check above can fail: the placeholder itself is refused where a validation applies."""
    terraform_or_skip()
    files = module("aws", "app", "prod")
    (tmp_path / "variables.tf").write_text(files["variables.tf"])
    (tmp_path / "terraform.tfvars").write_text(uncomment(files["terraform.tfvars.example"]))
    proc = terraform(["plan", "-input=false", "-no-color", "-refresh=false", "-lock=false", "-var=license=x"], tmp_path)
    assert proc.returncode != 0 and "Invalid value for variable" in proc.stderr


@pytest.mark.parametrize("options", list(OPTION_SETS))
def test_aws_infra_tfvars_example_validates_with_the_module(tmp_path: Path, options: str) -> None:
    """AWS infra, whose provider is available offline: the whole module with the uncommented example
    as terraform.tfvars initialises and validates."""
    terraform_or_skip(need_mirror=True)
    files = module("aws", "infra", options)
    for name, text in files.items():
        if name.endswith(".tf"):
            (tmp_path / name).write_text(text)
    (tmp_path / "terraform.tfvars").write_text(with_samples(uncomment(files["terraform.tfvars.example"]), "aws"))
    proc = terraform(["init", "-backend=false", "-input=false", "-no-color", f"-plugin-dir={PLUGIN_MIRROR}"], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = terraform(["validate", "-no-color"], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assigned = set(parse((tmp_path / "terraform.tfvars").read_text()))
    declared = set(_variables(files))
    assert assigned and assigned <= declared, f"undeclared: {assigned - declared}"


def test_multi_line_defaults_are_commented_line_by_line() -> None:
    example = module("aws", "infra", "tags")["terraform.tfvars.example"]
    assert '\n# tags = {\n#   cost-center = "42"\n#   team        = "ml"\n# }\n' in example
    app = module("azure", "app", "prod")["terraform.tfvars.example"]
    assert "\n# cert_manager_dns01 = null\n" in app and "\n# wandb_release = null\n" in app
    assert "# license: sensitive; keep it out of files: export TF_VAR_license=..." in app
    assert "\nlicense" not in app


def test_required_object_placeholders_are_valid_hcl(tmp_path: Path) -> None:
    """No module requires an object today; the placeholder for one is ready (and fmt-clean)."""
    from generator.moduledoc import Field, tfvars_example

    fields = [
        Field("variable", "zone", "object({\n  name = string\n  resource_group_name = string\n  ttl = optional(number, 300)\n  nested = object({\n    on = bool\n  })\n})", "A zone.", None, False),
        Field("variable", "names", "list(string)", "Names.", None, False),
    ]
    text = tfvars_example(fields, ["header"])
    values = parse(text)
    assert values["zone"] == {"name": "CHANGE-ME", "resource_group_name": "CHANGE-ME", "nested": {"on": False}}
    assert values["names"] == []
    terraform_or_skip()
    (tmp_path / "terraform.tfvars").write_text(text)
    proc = terraform(["fmt", "-check", "-diff", "-no-color", "terraform.tfvars"], tmp_path)
    assert proc.returncode == 0, proc.stdout


# ---- README.md --------------------------------------------------------------------------

README_CASES = [(c, layer) for c in CLOUDS for layer in LAYERS]


def _section(readme: str, title: str) -> str:
    start = readme.index(f"\n## {title}\n")
    end = readme.find("\n## ", start + 1)
    docs_end = readme.find("<!-- END_TF_DOCS -->", start)
    ends = [e for e in (end, docs_end) if e != -1]
    return readme[start : min(ends)]


def _rows(section: str) -> list[list[str]]:
    """The cells of a Markdown table's body rows (escaped pipes kept inside their cell)."""
    rows = []
    for line in section.splitlines():
        if line.startswith("|") and not line.startswith("|--") and not line.startswith("| Name |"):
            rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


def _name(cell: str) -> str:
    return re.search(r'<a name="[a-z]+_([^"]+)"></a>', cell).group(1)


@pytest.mark.parametrize("cloud,layer", README_CASES)
def test_readme_has_the_terraform_docs_layout(cloud: str, layer: str) -> None:
    files = module(cloud, layer, "prod")
    readme = files["README.md"]
    assert readme.startswith("<!-- Generated by gen-tf ")
    assert readme.count("<!-- BEGIN_TF_DOCS -->") == 1 and readme.count("<!-- END_TF_DOCS -->") == 1
    docs = readme[readme.index("<!-- BEGIN_TF_DOCS -->") :]
    titles = re.findall(r"^## (.+)$", docs, re.M)
    assert titles == ["Requirements", "Providers", "Modules", "Resources", "Inputs", "Outputs"]
    hand = readme[: readme.index("<!-- BEGIN_TF_DOCS -->")]
    assert "```mermaid" in hand and "## How to apply" in hand
    assert readme.rstrip().endswith("<!-- END_TF_DOCS -->") and readme.endswith("\n")
    # Every table row has as many cells as its header.
    assert all(len(r) == 5 for r in _rows(_section(readme, "Inputs")))
    assert all(len(r) == 2 for r in _rows(_section(readme, "Outputs")))


@pytest.mark.parametrize("cloud,layer", README_CASES)
def test_readme_tables_match_the_module(cloud: str, layer: str) -> None:
    """Requirements, resources, inputs and outputs as python-hcl2 reads the module."""
    files = module(cloud, layer, "prod")
    readme = files["README.md"]
    doc = parse("".join(text for name, text in sorted(files.items()) if name.endswith(".tf")))
    # Requirements: terraform's required_version, then each provider's constraint.
    terraform_block = doc["terraform"][0]
    providers = {k: v for entry in terraform_block["required_providers"] for k, v in entry.items()}
    expected = [["terraform", terraform_block["required_version"]]]
    expected += [[name, providers[name]["version"]] for name in sorted(providers)]
    assert [[_name(r[0]), r[1]] for r in _rows(_section(readme, "Requirements"))] == expected
    assert [[_name(r[0]), r[1]] for r in _rows(_section(readme, "Providers"))] == expected[1:]
    # Resources: every resource and data source, managed first, sorted.
    managed = sorted(blocks(doc, "resource"))
    data = sorted(blocks(doc, "data"))
    rows = _rows(_section(readme, "Resources"))
    assert rows == [[a, "resource"] for a in managed] + [[a, "data source"] for a in data]
    # Inputs: Name | Description | Type | Default | Required.
    variables = _variables(files)
    inputs = {_name(r[0]): r for r in _rows(_section(readme, "Inputs"))}
    assert list(inputs) == sorted(variables)
    for name, body in variables.items():
        row = inputs[name]
        assert row[4] == ("no" if "default" in body else "yes")
        if "default" not in body:
            assert row[3] == "n/a"
        if "\n" not in body["type"] and not body["type"].startswith("${"):
            assert row[2] == f"`{body['type']}`"
    outputs = blocks(doc, "output")
    assert [_name(r[0]) for r in _rows(_section(readme, "Outputs"))] == sorted(outputs)


def test_readme_cells_escape_pipes_newlines_and_tags() -> None:
    from generator.moduledoc import tf_docs

    files = {
        "versions.tf": 'terraform {\n  required_version = ">= 1.5.7"\n\n  required_providers {\n    aws = {\n      source  = "hashicorp/aws"\n      version = ">= 5.100, < 6.0"\n    }\n  }\n}\n',
        "variables.tf": (
            'variable "mode" {\n  type        = string\n  description = "a | b\\nsecond line, https://<domain>"\n'
            '  default     = "x|y"\n}\n\nvariable "labels" {\n  type = map(string)\n  description = "Labels."\n'
            '  default = {\n    a = "b"\n  }\n}\n'
        ),
        "outputs.tf": 'output "token" {\n  description = "A | token."\n  value       = "x"\n  sensitive   = true\n}\n',
        "main.tf": 'data "aws_caller_identity" "current" {}\n\nresource "aws_s3_bucket" "artifacts" {\n  bucket = "x"\n}\n',
    }
    docs = tf_docs(files)
    assert "| a \\| b<br>second line, https://&lt;domain> | `string` | `\"x\\|y\"` | no |" in docs
    assert "| <pre>{<br>  a = \"b\"<br>}</pre> | no |" in docs
    assert "| A \\| token. (sensitive) |" in docs
    assert "| aws_s3_bucket.artifacts | resource |\n| aws_caller_identity.current | data source |" in docs
    assert "| <a name=\"requirement_aws\"></a> [aws](#requirement\\_aws) | >= 5.100, < 6.0 |" in docs
    assert all(len(row) == 5 for row in _rows(_section(docs, "Inputs")))


@pytest.mark.parametrize("cloud,layer", README_CASES)
def test_readme_is_deterministic(cloud: str, layer: str) -> None:
    from generator.cli import module_files

    plan = _plan(cloud, layer)
    assert module_files(plan)["README.md"] == module_files(plan)["README.md"]


def _plan(cloud: str, layer: str, **options: Any) -> Any:
    from generator.catalog import load_catalog
    from generator.options import parse_options
    from generator.plan import build_plan

    values = {"cloud": cloud, "env": "prod", "products": "both", "layer": layer, "domain": "wandb.example.com", **options}
    return build_plan(parse_options(values), load_catalog(cloud))


def test_infra_readme_states_capacity() -> None:
    readme = module("aws", "infra", "prod")["README.md"]
    plan = _plan("aws", "infra")
    cap = plan.capacity
    line = next(line for line in readme.splitlines() if line.startswith("Capacity: "))
    assert f"W&B's {cap.preset} preset requests {cap.requested_cpu:g} cores and {cap.requested_memory_gib:g} GiB" in line
    assert f"each {plan.node.machine_type} node leaves {cap.node_cpu:g} cores and {cap.node_memory_gib:g} GiB to pods" in line
    assert f"so at least {cap.nodes} node" in line


def test_cost_section_renders_only_with_a_cost_line() -> None:
    from generator.moduledoc import readme_context
    from generator.render import render_files, render_template

    plan = _plan("aws", "infra")
    files = render_files(plan)
    without = render_template("module_readme.md.j2", readme_context(plan, files))
    assert "## Cost" not in without
    with_cost = render_template("module_readme.md.j2", readme_context(plan, files, cost_line="About 2,345 USD a month (us-east-1, on-demand)."))
    assert "\n## Cost\n\nAbout 2,345 USD a month (us-east-1, on-demand).\n\n## Architecture\n" in with_cost


def test_app_readme_shows_the_app_not_the_infrastructure() -> None:
    for cloud in CLOUDS:
        readme = module(cloud, "app", "prod")["README.md"]
        assert "# W&B on " in readme and ": app module (prod, both)" in readme
        assert "## Sizes" not in readme and "## Security defaults" not in readme
        assert "hot standby" not in readme and "deploy.wandb.ai" not in readme
        assert "## What it installs" in readme
        diagram = readme[readme.index("```mermaid") : readme.index("```\n", readme.index("```mermaid") + 3)]
        assert "operator" in diagram and "WeightsAndBiases" in diagram and "W&B pods" in diagram
        assert "Secret wandb-credentials" in diagram and "lb[" in diagram and "subgraph cluster" in diagram
        assert "<a name=\"input_license\"></a>" in readme and "export TF_VAR_license=..." in readme
    assert "aws-load-balancer-controller" in module("aws", "app", "prod")["README.md"]
    assert "cert-manager" in module("azure", "app", "prod")["README.md"]


@pytest.mark.parametrize("cloud", CLOUDS)
def test_air_gapped_infra_diagram_has_no_internet_egress(cloud: str) -> None:
    def diagram(readme: str) -> str:
        start = readme.index("```mermaid")
        return readme[start : readme.index("```\n", start + 3)]

    assert "internet[" in diagram(module(cloud, "infra", "prod")["README.md"])
    gapped = diagram(module(cloud, "infra", "air-gapped")["README.md"])
    assert "internet[" not in gapped and "egress (R-NET-1)" not in gapped and "deploy.wandb.ai" not in gapped
    assert f'mirror["private mirror {REGISTRY}"]' in gapped


def _security(readme: str) -> str:
    return _section(readme, "Security defaults")


def test_security_defaults_aws() -> None:
    closed = _security(module("aws", "infra", "prod")["README.md"])
    assert "EKS endpoint is private (`cluster_endpoint_public_access = false`)" in closed
    assert "`--admin-cidr` (`cluster_endpoint_public_access` with `cluster_endpoint_public_access_cidrs`)" in closed
    assert "not publicly accessible" in closed and "Block Public Access" in closed
    assert "plan fails until `alarm_emails` (`--alarm-email`) or `alarm_webhook_url` is set" in closed
    assert "`aws_s3_bucket.artifacts`" in closed and "prevent_destroy = true" in closed and "--no-prevent-destroy" in closed
    opened = _security(module("aws", "infra", "byo-network")["README.md"])
    assert "EKS endpoint is public to 203.0.113.0/24 only" in opened
    tagged = _security(module("aws", "infra", "tags")["README.md"])
    assert "it notifies ops@example.com" in tagged


def test_security_defaults_gcp() -> None:
    closed = _security(module("gcp", "infra", "prod")["README.md"])
    assert "GKE endpoint is private (`private_endpoint = true`)" in closed and "RFC 1918" in closed
    assert "private IP only" in closed and "public access prevention enforced" in closed
    opened = _security(module("gcp", "infra", "byo-network")["README.md"])
    assert "admit 203.0.113.0/24 only" in opened and "`private_endpoint = false`" in opened


def test_security_defaults_azure() -> None:
    default = _security(module("azure", "infra", "prod")["README.md"])
    assert "AKS API server admits only the module's NAT egress address; add where kubectl runs to `api_server_authorized_ip_ranges` (`--admin-cidr`)" in default
    assert "`private_cluster` (`--private-endpoint`) removes the public address" in default
    assert "Key Vault: its firewall denies by default and admits only the module's NAT egress address and trusted Azure services" in default
    assert "to `key_vault_allowed_cidrs` (`--admin-cidr`)" in default
    assert "public network access disabled" in default
    # An existing network has no NAT of the module's: only the admin networks.
    byo = _security(module("azure", "infra", "byo-network")["README.md"])
    assert "AKS API server admits only 203.0.113.0/24 (`api_server_authorized_ip_ranges`, `--admin-cidr`)." in byo
    assert "admits only 203.0.113.0/24 (`key_vault_allowed_cidrs`, `--admin-cidr`) and trusted Azure services." in byo
    gapped = _security(module("azure", "infra", "air-gapped")["README.md"])
    assert "private cluster (`private_cluster`, always with air_gapped)" in gapped
    assert "admits only trusted Azure services; the nodes reach it through its private endpoint" in gapped
    assert "NAT" not in gapped
    # The bullets form one list.
    assert "\n\n- " not in _security(module("azure", "infra", "prod")["README.md"]).split("\n- ", 1)[1]


def test_dev_readme_without_prevent_destroy() -> None:
    readme = module("aws", "infra", "dev-no-domain")["README.md"]
    security = _security(readme)
    assert "no `prevent_destroy`" in security and "`--prevent-destroy` protects them" in security
    assert "set the required variables (`domain`)" in readme
    assert 'DNS A record var.domain' in readme


def test_scanner_reads_what_the_docs_need() -> None:
    """The run-time line scanner (no HCL library): multi-line types and defaults kept as HCL text,
    heredoc descriptions, validations skipped, one-line resource blocks, versions."""
    from generator.moduledoc import scan, scan_requirements, scan_resources

    variables = (
        'variable "zones" {\n  type = list(object({\n    name = string\n    ttl  = optional(number, 300)\n  }))\n'
        '  description = <<-EOT\n    First | line.\n    Second line.\n  EOT\n  default = [{\n    name = "a"\n    ttl  = 60\n  }]\n\n'
        '  validation {\n    condition     = length(var.zones) > 0\n    error_message = "default = never read"\n  }\n}\n\n'
        'variable "secret" {\n  type        = string\n  description = "A secret."\n  sensitive   = true\n}\n'
    )
    zones, secret = scan(variables)
    assert zones.type == "list(object({\n  name = string\n  ttl  = optional(number, 300)\n}))"
    assert zones.description == "First | line.\nSecond line."
    assert zones.default == '[{\n  name = "a"\n  ttl  = 60\n}]'
    assert (secret.required, secret.sensitive, secret.default) == (True, True, None)
    code = 'data "google_client_config" "this" {}\n\nresource "b_thing" "x" {\n  a = 1\n}\n\ndata "a_src" "y" {\n}\n'
    assert [r.address for r in scan_resources(code)] == ["b_thing.x", "data.a_src.y", "data.google_client_config.this"]
    versions = (
        'terraform {\n  required_version = ">= 1.11"\n\n  required_providers {\n    random = {\n      source  = "hashicorp/random"\n'
        '      version = ">= 3.7, < 4.0"\n    }\n  }\n}\n'
    )
    assert [(r.name, r.source, r.version) for r in scan_requirements(versions)] == [
        ("terraform", "", ">= 1.11"), ("random", "hashicorp/random", ">= 3.7, < 4.0"),
    ]
