"""Property-based tests over the option space (hypothesis).

For random valid option sets the output parses, is `terraform fmt`-clean, passes
`terraform validate` (AWS) or the offline schema check (GCP/Azure), and is
byte-identical when generated twice. For random invalid values of each option
the CLI exits 2 with one stderr line naming the option, no traceback, no stdout.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import parse, run_cli, terraform, terraform_or_skip
from generator.catalog import load_catalog
from generator.options import NAME_RESERVED_PREFIXES, NAME_RESERVED_WORDS, TAG_RESERVED_PREFIXES
from generator.sizing import node_families
from generator.plan import accepted_versions

pytestmark = pytest.mark.terraform

REGIONS = {
    "aws": ["us-east-1", "us-west-2", "eu-central-1", "ap-northeast-2"],
    "gcp": ["us-central1", "europe-west4", "asia-northeast3"],
    "azure": ["eastus", "westeurope", "koreacentral"],
}
label = st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True)
names = st.from_regex(r"[a-z][a-z0-9]{1,6}(-[a-z0-9]{1,5}){0,2}", fullmatch=True).filter(
    lambda n: 3 <= len(n) <= 20
    and not n.startswith(NAME_RESERVED_PREFIXES)
    and not any(word in n for word in NAME_RESERVED_WORDS)
)
tag_keys = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True).filter(lambda k: not k.startswith(TAG_RESERVED_PREFIXES))
tag_values = st.from_regex(r"[a-z0-9_-]{0,12}", fullmatch=True)


@st.composite
def valid_options(draw: st.DrawFn, clouds: tuple[str, ...] = ("aws", "gcp", "azure")) -> list[str]:
    cloud = draw(st.sampled_from(clouds))
    catalog = load_catalog(cloud)
    argv = [
        "--cloud", cloud,
        "--env", draw(st.sampled_from(["dev", "test", "prod"])),
        "--products", draw(st.sampled_from(["models", "weave", "both"])),
    ]
    if draw(st.booleans()):
        argv += ["--name", draw(names)]
    if draw(st.booleans()):
        argv += ["--region", draw(st.sampled_from(REGIONS[cloud]))]
    if draw(st.booleans()):
        zone = f"{draw(label)}.{draw(st.sampled_from(['com', 'io', 'example']))}"
        argv += ["--domain", f"{draw(label)}.{zone}"]
        if draw(st.booleans()):
            argv += ["--dns-zone", zone]
    if draw(st.booleans()):
        argv += ["--k8s-version", draw(st.sampled_from(accepted_versions(catalog.cloud.kubernetes_versions, catalog.cloud.as_of)))]
    if draw(st.booleans()):
        argv += ["--mysql-version", draw(st.sampled_from(accepted_versions(catalog.cloud.mysql_versions, catalog.cloud.as_of)))]
    standby = draw(st.sampled_from([None, "--standby", "--no-standby"]))
    if standby:
        argv.append(standby)
    if draw(st.booleans()):
        argv += ["--backup-retention-days", str(draw(st.integers(7, 35)))]
    for key, value in draw(st.dictionaries(tag_keys, tag_values, max_size=3)).items():
        argv += ["--tag", f"{key}={value}"]
    if draw(st.booleans()):
        argv += ["--node-family", draw(st.sampled_from(node_families(catalog)))]
    return argv


def generate(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code, out, err = run_cli(argv, capsys)
    assert code == 0, f"{argv}: {err}"
    # Only warnings (a version past standard support, issue 11) may reach stderr.
    assert all(line.startswith("gen-tf: warning: ") for line in err.splitlines()), err
    return out


def fmt_clean(text: str) -> None:
    binary = terraform_or_skip()
    proc = subprocess.run([binary, "fmt", "-"], input=text, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == text, "terraform fmt would change the output"


SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(argv=valid_options(("gcp", "azure")))
def test_valid_options_gcp_azure(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    from generator.schema_check import check_text

    text = generate(argv, capsys)
    assert generate(argv, capsys) == text  # byte-identical
    parse(text)
    fmt_clean(text)
    findings = check_text(text)
    assert findings == [], "\n".join(map(str, findings))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=valid_options(("aws",)))
def test_valid_options_aws_validate(argv: list[str], aws_workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = generate(argv, capsys)
    assert generate(argv, capsys) == text
    parse(text)
    fmt_clean(text)
    (aws_workdir / "main.tf").write_text(text)
    proc = terraform(["validate", "-json", "-no-color"], aws_workdir)
    result = json.loads(proc.stdout)
    assert result["valid"] is True, f"{argv}: {result['diagnostics']}"


BASE = ["--cloud", "aws", "--env", "dev", "--products", "both"]

invalid = st.one_of(
    st.tuples(st.just("--cloud"), st.text(min_size=1, max_size=8).filter(lambda v: v not in ("aws", "gcp", "azure") and not v.startswith("-"))),
    st.tuples(st.just("--env"), st.text(min_size=1, max_size=8).filter(lambda v: v not in ("dev", "test", "prod") and not v.startswith("-"))),
    st.tuples(st.just("--products"), st.sampled_from(["all", "model", "Weave", "none"])),
    st.tuples(st.just("--k8s-version"), st.integers(0, 28).map(lambda m: f"1.{m}") | st.sampled_from(["2.0", "latest", "1", "v1.30"])),
    st.tuples(st.just("--mysql-version"), st.sampled_from(["5.7", "5.6", "7.9", "8", "eight", "9.9"])),
    st.tuples(st.just("--backup-retention-days"), (st.integers(-5, 6) | st.integers(36, 400)).map(str)),
    st.tuples(st.just("--name"), st.sampled_from(["ab", "Wandb", "1abc", "abc-", "a--b", "x" * 21, "w_b"])),
    st.tuples(st.just("--domain"), st.sampled_from(["localhost", "-a.com", "a..com", "A.COM.", "a b.com", "x.1"])),
    st.tuples(st.just("--region"), st.sampled_from(["Mars", "us_east_1", "useast", "us-east"])),
    st.tuples(st.just("--tag"), st.sampled_from(["novalue", "=v", "aws:x=y", "1a=b"])),
    st.tuples(st.just("--node-family"), st.sampled_from(["r6g", "m7g", "unknown", "db.r6g"])),
    st.tuples(st.just("--allowed-cidr"), st.sampled_from(["10.0.0.0/33", "10.0.0/8", "any"])),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=invalid)
def test_invalid_values_exit_2(bad: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    option, value = bad
    argv = [*BASE, option, value] if option not in ("--cloud", "--env", "--products") else _replace(BASE, option, value)
    code, out, err = run_cli(argv, capsys)
    assert code == 2, f"{argv} exited {code}"
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert option in lines[0], lines[0]
    assert "Traceback" not in err


def _replace(argv: list[str], option: str, value: str) -> list[str]:
    out = list(argv)
    out[out.index(option) + 1] = value
    return out
