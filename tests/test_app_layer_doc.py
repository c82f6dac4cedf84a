"""docs/app-layer.md stays true to the code it describes.

The document names variables, outputs, service accounts, routes, commands and
upstream files. These tests read those names out of the Markdown and check each
against what gen-tf generates today, against the catalogs, and against the record
of the upstream files it cites (tests/upstream/cited.json; tools/upstream.py writes
and re-checks it from the repositories' Git mirrors). A rename in the code
without the document, or the other way round, fails here.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from conftest import APP_DOMAIN, DOMAIN_ARGS, REPO, blocks, generate, local_value, parsed, variable_default
from generator.catalog import load_catalog
from generator.plan import _wandb_plan, kebab
from generator.sizing import size

DOC = REPO / "docs" / "app-layer.md"
CLOUDS = ("aws", "gcp", "azure")
CLOUD_NAMES = {"AWS": "aws", "GCP": "gcp", "Azure": "azure"}
APP = ("--layer", "app", *APP_DOMAIN)
# Variables earlier versions of the application layer had: the document may name them
# only to say they are gone.
REMOVED = ("app_port", "health_check_path", "wandb_chart_version", "wandb_service_accounts")
GONE_WORDS = ("gone", "removed", "became", "renamed", "replaced", "no longer")
# Names the document uses on purpose that no generated module has, each with its reason.
NOT_IN_CODE = {
    "kubernetes_manifest": "the resource type the module avoids (section Custom resources)",
}
SNAKE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")


# ---- Reading the document ---------------------------------------------------------------


@lru_cache(maxsize=None)
def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def without_code(text: str) -> str:
    """The text with fenced code blocks blanked (their lines kept, so line structure stays)."""
    out, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            out.append("")
            continue
        out.append("" if fenced else line)
    return "\n".join(out)


def code_lines(text: str) -> list[str]:
    """Every line inside a fenced code block."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            lines.append(line.strip())
    return lines


def section(title: str) -> str:
    """The body under the heading ``title`` (any level), up to the next heading of that level or higher."""
    lines = doc_text().splitlines()
    for i, line in enumerate(lines):
        match = re.match(r"^(#+) (.*)$", line)
        if match and match.group(2).strip() == title:
            level = len(match.group(1))
            body = []
            for rest in lines[i + 1 :]:
                heading = re.match(r"^(#+) ", rest)
                if heading and len(heading.group(1)) <= level:
                    break
                body.append(rest)
            return "\n".join(body)
    raise AssertionError(f"docs/app-layer.md has no heading {title!r}")


def tables(text: str) -> list[list[list[str]]]:
    """Markdown tables as lists of rows of cells (the separator row dropped)."""
    found: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(re.fullmatch(r":?-+:?", c) for c in cells):
                current.append(cells)
        elif current:
            found.append(current)
            current = []
    return found


def ticks(text: str) -> list[str]:
    return re.findall(r"`([^`\n]+)`", text)


def snake_names(text: str) -> list[str]:
    """Backticked snake_case names, alone or as the left side of an assignment (`eks_auth = "exec"`)."""
    names = []
    for tick in ticks(text):
        name = re.sub(r"\s*=.*$", "", tick)
        if SNAKE.match(name):
            names.append(name)
    return names


def unticked(cell: str) -> str:
    assert cell.startswith("`") and cell.endswith("`"), cell
    return cell[1:-1]


MARKER = re.compile(r"\*\*(AWS|GCP|Azure)\.\*\*|\b(AWS|GCP|Azure):|\b[Oo]n (AWS|GCP|Azure),")


def scoped_names() -> Iterator[tuple[str | None, str]]:
    """(cloud or None, name) for every backticked snake_case name in the document's prose.

    A name is scoped to a cloud when it sits in that cloud's column of a table whose header
    names AWS, GCP and Azure, or after a marker (``**AWS.**``, ``AWS:``, ``On AWS,``) in the
    same paragraph or top-level list item, up to the next marker; or in a table row whose first
    cell names the cloud."""
    text = without_code(doc_text())
    prose: list[str] = []
    for table in tables(text):
        header = table[0]
        columns = {i: CLOUD_NAMES[c] for i, c in enumerate(header) if c in CLOUD_NAMES}
        for row in table[1:]:
            # A row labelled with a cloud (first cell) is that cloud's throughout.
            row_cloud = CLOUD_NAMES.get(row[0])
            for i, cell in enumerate(row):
                for name in snake_names(cell):
                    yield row_cloud or columns.get(i), name
    # Paragraphs and top-level list items (with their indented continuation lines).
    block: list[str] = []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            continue
        starts = not line.strip() or line.startswith("- ") or re.match(r"^\d+\. ", line) or line.startswith("#")
        if starts and block:
            prose.append(" ".join(block))
            block = []
        if line.strip():
            block.append(line.strip())
    for paragraph in prose:
        pieces = MARKER.split(paragraph)
        # split() with 3 groups: text, g1, g2, g3, text, ...
        yield from ((None, n) for n in snake_names(pieces[0]))
        for i in range(1, len(pieces), 4):
            label = next(g for g in pieces[i : i + 3] if g)
            cloud = CLOUD_NAMES[label]
            yield from ((cloud, n) for n in snake_names(pieces[i + 3]))


# ---- What the code knows ------------------------------------------------------------------


def app_doc(cloud: str, env: str = "prod", products: str = "both") -> dict[str, Any]:
    return parsed(cloud, env, products, *APP)


def infra_doc(cloud: str, products: str = "both") -> dict[str, Any]:
    return parsed(cloud, "prod", products, *DOMAIN_ARGS)


def locals_of(doc: dict[str, Any]) -> set[str]:
    return {name for entry in doc.get("locals", []) for name in entry}


def hcl_identifiers(text: str) -> set[str]:
    """Attribute and block names written in generated HCL (provider arguments such as
    shared_access_key_enabled), and resource and data source types."""
    names = set(re.findall(r'^\s*"?([a-z][a-z0-9_]*)"?\s*=', text, re.M))
    names |= set(re.findall(r"^\s*([a-z][a-z0-9_]*)\s*\{", text, re.M))
    names |= set(re.findall(r'^(?:resource|data|ephemeral)\s+"([a-z0-9_]+)"', text, re.M))
    return names


def yaml_keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return {str(k) for k in value} | {k for v in value.values() for k in yaml_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in yaml_keys(v)}
    return set()


@lru_cache(maxsize=None)
def known_names(cloud: str) -> frozenset[str]:
    """Every name the document may use for this cloud: the app and infra modules' variables,
    outputs and locals, identifiers in their generated code, and the catalogs' keys."""
    names: set[str] = set()
    for env in ("dev", "prod"):
        for products in ("models", "weave", "both"):
            doc = app_doc(cloud, env, products)
            names |= set(blocks(doc, "variable")) | set(blocks(doc, "output")) | locals_of(doc)
            names |= hcl_identifiers(generate(cloud, env, products, *APP))
    for products in ("models", "both"):
        doc = infra_doc(cloud, products)
        names |= set(blocks(doc, "variable")) | set(blocks(doc, "output")) | locals_of(doc)
        names |= hcl_identifiers(generate(cloud, "prod", products, *DOMAIN_ARGS))
    for catalog in ("reference.yaml", f"{cloud}.yaml"):
        names |= yaml_keys(yaml.safe_load((REPO / "catalogs" / catalog).read_text(encoding="utf-8")))
    return frozenset(names)


@lru_cache(maxsize=None)
def app_variables(cloud: str) -> frozenset[str]:
    return frozenset(
        name
        for env in ("dev", "prod")
        for products in ("models", "weave", "both")
        for name in blocks(app_doc(cloud, env, products), "variable")
    )


def infra_inputs(cloud: str, products: str) -> set[str]:
    """The app variables documented as infrastructure outputs (what gen-tf app-vars writes)."""
    return {
        name for name, body in blocks(app_doc(cloud, "prod", products), "variable").items()
        if body["description"].startswith("Infrastructure output ")
    }


# ---- Names ----------------------------------------------------------------------------------


def test_every_name_the_doc_uses_exists_in_the_code_of_its_cloud() -> None:
    """A backticked snake_case name in a cloud's column or paragraph exists in that cloud's
    generated modules (variable, output, local, HCL argument) or catalogs; any other one in
    some cloud's. A name that exists nowhere is a stale one."""
    unknown = []
    for cloud, name in scoped_names():
        if name in REMOVED or name in NOT_IN_CODE:
            continue  # test_removed_variables_are_only_mentioned_as_removed; NOT_IN_CODE
        clouds = (cloud,) if cloud else CLOUDS
        if not any(name in known_names(c) for c in clouds):
            unknown.append(f"{name} ({cloud or 'any cloud'})")
    assert not unknown, f"docs/app-layer.md names what the code does not have: {unknown}"


def test_cloud_scoped_app_variables_belong_to_that_clouds_app_module() -> None:
    """A name the document places under one cloud that is an app-layer variable somewhere is an
    app-layer variable of that cloud (or one of that cloud's infrastructure inputs or outputs)."""
    wrong = []
    for cloud, name in scoped_names():
        if cloud is None or name in REMOVED:
            continue
        is_app_variable = any(name in app_variables(c) for c in CLOUDS)
        infra = infra_doc(cloud)
        if is_app_variable and name not in app_variables(cloud) and name not in blocks(infra, "variable") | blocks(infra, "output"):
            wrong.append(f"{name} under {cloud}")
    assert not wrong, wrong


def test_the_checks_see_the_names() -> None:
    """The scanner finds what it should, so the two tests above cannot pass vacuously."""
    found = set(scoped_names())
    for expected in [("aws", "eks_auth"), ("azure", "kubelogin_login"), ("gcp", "db_password_secret_id"),
                     ("aws", "target_group_arn"), ("azure", "storage_class_name"), (None, "wandb_release"),
                     ("aws", "cluster_endpoint_public_access"), ("gcp", "private_endpoint"),
                     ("azure", "api_server_authorized_ip_ranges")]:
        assert expected in found, expected
    assert "kubelogin_login" not in known_names("aws")
    assert "eks_auth" in app_variables("aws") and "eks_auth" not in app_variables("gcp")


def test_air_gapped_variables_are_app_variables() -> None:
    """The variables the air-gapped section tells the reader to set exist in the app modules:
    the unprefixed ones on every cloud, the "On AWS"/"On Azure" ones on that cloud."""
    body = without_code(section("Air-gapped installs (R-NET-2)"))
    items = re.findall(r"^- `([a-z_]+)(?: = [^`]*)?`", body, re.M)
    assert {"airgapped", "chart_repository", "wandb_release", "image_registry", "operator_image_tag"} <= set(items)
    for name in items:
        for cloud in CLOUDS:
            assert name in blocks(app_doc(cloud), "variable"), f"{name} is not an app variable on {cloud}"
    for label, rest in re.findall(r"On (AWS|Azure), ([^.]*)\.", body):
        for name in snake_names(rest):
            assert name in blocks(app_doc(CLOUD_NAMES[label]), "variable"), (label, name)


def test_removed_variables_are_only_mentioned_as_removed() -> None:
    """app_port, health_check_path, wandb_chart_version and wandb_service_accounts are not app
    variables any more; the document names them, if at all, in a sentence saying so."""
    for cloud in CLOUDS:
        for env in ("dev", "prod"):
            for products in ("models", "weave", "both"):
                variables = blocks(app_doc(cloud, env, products), "variable")
                assert not set(REMOVED) & set(variables), (cloud, env, products)
    text = " ".join(doc_text().split())
    sentences = re.split(r"(?<=[.:;])\s+(?=[A-Z`(])", text)
    for sentence in sentences:
        named = [name for name in REMOVED if re.search(rf"\b{name}\b", sentence)]
        if named:
            assert any(word in sentence.lower() for word in GONE_WORDS), (
                f"docs/app-layer.md mentions {named} as if current: {sentence!r}"
            )


# ---- The contract: service accounts and routes ------------------------------------------------


def test_service_account_table_is_the_catalogs() -> None:
    (table,) = tables(section("Service accounts"))
    rows = [(unticked(component), unticked(account), products) for component, account, products in table[1:]]
    for cloud in CLOUDS:
        catalog = load_catalog(cloud, ())
        both = _wandb_plan(catalog, "both").components
        models = _wandb_plan(catalog, "models").components
        assert [(c, a) for c, a, _ in rows] == list(both.items()), "the table is not wandb.components of reference.yaml"
        assert {c for c, _, p in rows if p == "all"} == set(models)
        assert {c for c, _, p in rows if p != "all"} == set(both) - set(models)
        assert all(p in ("all", "Weave, both") for _, _, p in rows)
        # The app layer names them and the infrastructure binds them (the text the doc promises).
        infra = generate(cloud, "prod", "both", *DOMAIN_ARGS)
        for component, account, _ in rows:
            assert account == f"wandb-{kebab(component)}"
            assert account in infra, f"the {cloud} infrastructure does not bind {account}"


def test_routes_table_is_the_catalogs() -> None:
    routes_table = next(t for t in tables(section("TLS and ingress (R-TLS-1, R-K8S-2, R-DNS-1)")) if t[0][0] == "Path")
    rows = routes_table[1:]
    routes = _wandb_plan(load_catalog("aws", ()), "both").routes
    assert len(rows) == len(routes)
    for row, route in zip(rows, routes):
        path, service, port, health, output, products = row
        assert (unticked(path), unticked(service), int(port), unticked(health), unticked(output)) == (
            route.path, route.service, route.port, route.health_check, route.aws_output,
        )
        weave_only = route.component not in _wandb_plan(load_catalog("aws", ()), "models").components
        assert products == ("Weave, both" if weave_only else "all")
    # Each route's target group is an AWS app variable bound by a TargetGroupBinding.
    for route in routes:
        assert route.aws_output in blocks(app_doc("aws"), "variable")
    assert "TargetGroupBinding" in generate("aws", "prod", "both", *APP)


def test_named_constants_match_the_catalog() -> None:
    text = doc_text()
    aws = load_catalog("aws", ())
    storage_class = aws.cloud.settings["storage_class"]["name"]
    assert f"`{storage_class}`" in text
    app = app_doc("aws")
    assert local_value(app, "storage_class") == storage_class
    (metadata,) = blocks(app, "resource")["kubernetes_storage_class_v1.wandb"]["metadata"]
    assert metadata["name"] == "${local.storage_class}"
    assert metadata["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    # wandb_values is a merge() expression: read global.storageClass in the generated text.
    assert re.search(r"^\s*storageClass\s*=\s*local\.storage_class$", generate("aws", "prod", "both", *APP), re.M)
    image = aws.reference.wandb.operator_image
    assert f"`{image.repository}:{image.tag}`" in text
    assert variable_default(app_doc("aws"), "operator_image_tag") == image.tag
    assert f"`{aws.reference.wandb.credentials_secret}`" in text
    assert f"name `{aws.reference.wandb.release}`" in text


# ---- gen-tf app-vars, as the document shows it ----------------------------------------------------


def _terraform_output(cloud: str, products: str) -> dict[str, Any]:
    """What `terraform output -json` of the infrastructure module prints (stand-in values)."""
    return {
        name: {"sensitive": bool(body.get("sensitive", False)), "type": "string", "value": f"stand-in-{name}"}
        for name, body in blocks(infra_doc(cloud, products), "output").items()
    }


def _doc_app_vars_commands() -> list[str]:
    commands = [line for line in code_lines(doc_text()) if "gen-tf app-vars" in line]
    assert commands, "docs/app-layer.md shows no gen-tf app-vars command"
    return commands


def _run_doc_command(command: str, cloud: str, outputs: dict[str, Any], work: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run the document's shell line with a stand-in terraform (printing ``outputs``) and the real
    gen-tf; returns the process and the file the line redirects into."""
    line = re.sub(r"--cloud \S+", f"--cloud {cloud}", command)
    tokens = shlex.split(line)
    target = work / tokens[tokens.index(">") + 1]
    for folder in ("infra", "app", "bin"):
        (work / folder).mkdir(exist_ok=True)
    source = work / "outputs.json"
    source.write_text(json.dumps(outputs))
    if "--input" in tokens:
        (work / tokens[tokens.index("--input") + 1]).write_text(json.dumps(outputs))
    stubs = {
        "terraform": f'#!/bin/sh\ncase "$*" in *"output -json"*) exec cat "{source}";; esac\nexit 3\n',
        "gen-tf": f'#!/bin/sh\nexec "{sys.executable}" -m generator "$@"\n',
    }
    for name, body in stubs.items():
        path = work / "bin" / name
        path.write_text(body)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    env = {**os.environ, "PATH": f"{work / 'bin'}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(REPO)}
    if target.exists():
        target.unlink()
    proc = subprocess.run(["bash", "-c", "set -o pipefail; " + line], cwd=work, env=env, capture_output=True, text=True, timeout=120)
    return proc, target


@pytest.mark.parametrize("cloud,products", [(c, p) for c in CLOUDS for p in ("models", "both")])
def test_the_documented_app_vars_command_feeds_the_app_layer(tmp_path: Path, cloud: str, products: str) -> None:
    outputs = _terraform_output(cloud, products)
    for command in _doc_app_vars_commands():
        proc, target = _run_doc_command(command, cloud, outputs, tmp_path)
        assert proc.returncode == 0, proc.stderr
        text = target.read_text()
        variables = json.loads(text)
        # Exactly the app layer's infrastructure inputs: every other output is left out.
        assert set(variables) == infra_inputs(cloud, products)
        assert variables == {name: outputs[name]["value"] for name in variables}
        assert list(variables) == sorted(variables)
        # "No output in the list is secret."
        assert not any(outputs[name]["sensitive"] for name in variables)


@pytest.mark.parametrize("cloud", CLOUDS)
def test_app_vars_refuses_what_the_doc_says_it_refuses(tmp_path: Path, cloud: str) -> None:
    outputs = _terraform_output(cloud, "both")
    (command,) = _doc_app_vars_commands()[:1]
    missing = sorted(infra_inputs(cloud, "models"))[0]
    proc, target = _run_doc_command(command, cloud, {k: v for k, v in outputs.items() if k != missing}, tmp_path)
    assert proc.returncode != 0 and missing in proc.stderr
    marked = {**outputs, missing: {**outputs[missing], "sensitive": True}}
    proc, _ = _run_doc_command(command, cloud, marked, tmp_path)
    assert proc.returncode != 0 and "sensitive" in proc.stderr
    broken = {"not": "terraform output"}
    proc, _ = _run_doc_command(command, cloud, broken, tmp_path)
    assert proc.returncode != 0


def test_weave_only_inputs_are_the_ones_the_doc_names() -> None:
    """The doc: every output of the list must be present "except the Weave-only ones (on AWS,
    traces_target_group_arn)"."""
    weave_only = {
        (cloud, name) for cloud in CLOUDS
        for name, entry in load_catalog(cloud, ()).cloud.app_inputs.items() if entry.weave
    }
    assert weave_only == {("aws", "traces_target_group_arn")}
    body = section("The two-step apply")
    assert "on AWS,\n     `traces_target_group_arn`" in body or "on AWS, `traces_target_group_arn`" in " ".join(body.split())


# ---- Private API access ----------------------------------------------------------------------


def test_private_api_table_matches_the_infrastructure_defaults() -> None:
    admin = ("--admin-cidr", "203.0.113.0/24")
    closed = ("--private-endpoint",)

    def default(cloud: str, name: str, *extra: str) -> Any:
        return variable_default(parsed(cloud, "prod", "both", *DOMAIN_ARGS, *extra), name)

    assert default("aws", "cluster_endpoint_public_access") is False
    assert default("aws", "cluster_endpoint_public_access", *admin) is True
    assert default("aws", "cluster_endpoint_public_access_cidrs", *admin) == ["203.0.113.0/24"]
    assert default("aws", "cluster_endpoint_public_access", *closed) is False
    assert default("gcp", "private_endpoint") is True
    assert default("gcp", "cluster_endpoint_authorized_cidrs") == ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
    assert default("gcp", "private_endpoint", *admin) is False
    assert default("gcp", "cluster_endpoint_authorized_cidrs", *admin) == ["203.0.113.0/24"]
    assert default("gcp", "private_endpoint", *closed) is True
    assert default("azure", "api_server_authorized_ip_ranges") == []
    assert default("azure", "api_server_authorized_ip_ranges", *admin) == ["203.0.113.0/24"]
    assert default("azure", "key_vault_allowed_cidrs", *admin) == ["203.0.113.0/24"]
    assert default("azure", "private_cluster") is False
    assert default("azure", "private_cluster", *closed) is True
    azure = generate("azure", "prod", "both", *DOMAIN_ARGS)
    assert "concat(var.api_server_authorized_ip_ranges, local.egress_cidrs)" in azure
    assert "private_cluster = var.private_cluster || var.air_gapped" in " ".join(azure.split())
    # The AWS module opens 443 on the cluster security group for a runner in the VPC (or the
    # networks of cluster_endpoint_private_access_cidrs), as the doc says.
    aws = infra_doc("aws")
    on_cluster = [
        body for address, body in blocks(aws, "resource").items()
        if address.startswith("aws_vpc_security_group_ingress_rule.") and "cluster_security_group_id" in body["security_group_id"]
    ]
    assert on_cluster
    ports = set()
    for body in on_cluster:
        if body["from_port"] == "${each.value}":
            assert body["for_each"] == "${local.route_ports}"
            ports |= set(local_value(aws, "route_ports").values())
        else:
            ports.add(int(body["from_port"]))
    assert 443 in ports, "the infrastructure no longer admits a runner on 443: update the Private API access section"
    text = doc_text()
    assert "aws_vpc_security_group_ingress_rule.api_private" in text and "cluster_endpoint_private_access_cidrs" in text


# ---- Sizing ---------------------------------------------------------------------------------


def test_sizing_rule_and_result_match_the_capacity_check() -> None:
    text = " ".join(doc_text().split())
    ref = load_catalog("aws", ()).reference
    # "small in dev/test; in prod medium for Models and large for Weave or both."
    assert "`small` in dev/test; in prod `medium` for Models and `large` for Weave or both" in text
    assert ref.app_sizes["dev"] == {"models": "small", "weave": "small", "both": "small"}
    assert ref.app_sizes["prod"] == {"models": "medium", "weave": "large", "both": "large"}
    # "From medium up, the parquet pod requests 15 cores and 64 GiB."
    assert "the parquet pod requests 15 cores and 64 GiB" in text
    for preset in ("medium", "large", "xlarge"):
        (parquet,) = [p for p in ref.app_presets[preset].pods if p.component == "parquet"]
        assert (parquet.cpu, parquet.memory_gib) == (15, 64)
    # "it gives large to AWS and GCP prod with Weave or both, and small to every other cell."
    assert "it gives `large` to AWS and GCP prod with Weave or both, and `small` to every other cell" in text
    presets = {
        (cloud, env, products): size(load_catalog(cloud, ()), env, products).capacity.preset
        for cloud in CLOUDS for env in ("dev", "prod") for products in ("models", "weave", "both")
    }
    large = {cell for cell, preset in presets.items() if preset == "large"}
    assert large == {(c, "prod", p) for c in ("aws", "gcp") for p in ("weave", "both")}
    assert set(presets.values()) == {"small", "large"}
    # "Azure prod with Weave gets small because a Standard_E16_v5 leaves 14.94 cores."
    azure = size(load_catalog("azure", ()), "prod", "both")
    assert azure.node.machine_type == "Standard_E16_v5" and azure.capacity.node_cpu == 14.94
    assert "a Standard_E16_v5 leaves 14.94 cores" in text
    # The app module's default is that preset.
    for (cloud, env, products), preset in presets.items():
        assert variable_default(app_doc(cloud, env, products), "sized_wandb_size") == preset


# ---- Upstream files the document cites -------------------------------------------------------


def _upstream_tool() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("upstream_tool", REPO / "tools" / "upstream.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_cited_upstream_files_exist_at_the_cited_commits() -> None:
    """Every upstream file the document cites is one the record (tests/upstream/cited.json,
    written from the repositories' Git mirrors by tools/upstream.py, which also re-checks it)
    holds at the revision the document names, so the check runs without network or mirror."""
    text = doc_text()
    tool = _upstream_tool()
    record = json.loads((REPO / "tests" / "upstream" / "cited.json").read_text())
    cited = tool.cited(text)
    assert sum(len(paths) for paths in cited.values()) >= 10
    for repo, revision in tool.revisions(text).items():
        assert record[repo]["revision"] == revision, f"{repo}: the document cites {revision}, the record {record[repo]['revision']}"
        unrecorded = [path for path in cited[repo] if not record[repo]["files"].get(path)]
        assert not unrecorded, f"{repo}: cited but not recorded (python tools/upstream.py --mirrors DIR --write): {unrecorded}"
    # The chart the document describes is the catalog's reference version.
    chart = record["wandb/helm-charts"]["chart_version"]
    assert f"operator-wandb {chart}" in text

