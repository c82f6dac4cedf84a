"""Shared test helpers: generate modules in-process, parse them with python-hcl2, find terraform."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from functools import lru_cache
from pathlib import Path
from typing import Any

import hcl2
import pytest

from generator.cli import main

REPO = Path(__file__).resolve().parent.parent
TERRAFORMRC = REPO / "tests" / "terraformrc.hcl"
PLUGIN_MIRROR = Path("/opt/tf-plugins")
CLOUDS = ("aws", "gcp", "azure")
ENVS = ("dev", "prod")
PRODUCTS = ("models", "weave", "both")
COMBOS = [(c, e, p) for c in CLOUDS for e in ENVS for p in PRODUCTS]
DOMAIN_ARGS = ("--domain", "wandb.example.com", "--dns-zone", "example.com")
# The application layer takes the domain only (the DNS zone is the infrastructure's).
APP_DOMAIN = ("--domain", "wandb.example.com")
IN_CI = os.environ.get("CI", "").lower() == "true"
# The W&B service accounts both layers must name (issue 14), typed by hand from the operator-wandb
# chart: the components that read or write the bucket or sign its URLs, and console. Weave adds
# weave-trace and its worker.
WANDB_SERVICE_ACCOUNTS_MODELS = [
    "wandb-app", "wandb-api", "wandb-console", "wandb-executor", "wandb-filemeta", "wandb-filestream",
    "wandb-flat-run-fields-updater", "wandb-glue", "wandb-history-reader", "wandb-history-updater",
    "wandb-metric-observer", "wandb-parquet", "wandb-parquet-metadata-cache", "wandb-settings-migration-job",
    "wandb-weave",
]
WANDB_SERVICE_ACCOUNTS_WEAVE = [*WANDB_SERVICE_ACCOUNTS_MODELS, "wandb-weave-trace", "wandb-weave-trace-worker"]


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # gen-tf's per-user caches (validated catalogs, compiled templates) go to a folder of
    # this session's own, inherited by the subprocesses tests start: no test reads a
    # cache an earlier run or the developer left behind.
    import tempfile

    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="gen-tf-test-cache-")
    os.environ.pop("GEN_TF_NO_CACHE", None)
    # pytest-terraform stops the whole run when no terraform is on PATH; name one so only
    # the tests that need it skip (or fail, in CI) through terraform_or_skip().
    if getattr(config.option, "dest_tf_binary", "unset") is None and not shutil.which("terraform"):
        config.option.dest_tf_binary = "terraform"


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = os.environ.get("XDG_CACHE_HOME", "")
    if Path(folder).name.startswith("gen-tf-test-cache-"):
        shutil.rmtree(folder, ignore_errors=True)


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run gen-tf in-process; returns (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@lru_cache(maxsize=None)
def generate(cloud: str, env: str, products: str, *extra: str) -> str:
    """The module gen-tf writes for these options, through the real CLI (cached: output is deterministic)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["--cloud", cloud, "--env", env, "--products", products, *extra])
    assert code == 0, err.getvalue()
    return out.getvalue()


_OPTS = hcl2.SerializationOptions(strip_string_quotes=True, with_comments=False, explicit_blocks=False)


def parse(text: str) -> dict[str, Any]:
    """Parse HCL text into plain Python values (strings unquoted, expressions as ``${...}``)."""
    return hcl2.loads(text, serialization_options=_OPTS)


@lru_cache(maxsize=None)
def parsed(cloud: str, env: str, products: str, *extra: str) -> dict[str, Any]:
    return parse(generate(cloud, env, products, *extra))


def blocks(doc: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """Top-level blocks of one kind: resources/data as ``{"type.name": body}``, others as ``{"name": body}``."""
    found: dict[str, dict[str, Any]] = {}
    for entry in doc.get(kind, []):
        for label, body in entry.items():
            if kind in ("resource", "data"):
                for name, inner in body.items():
                    found[f"{label}.{name}"] = inner
            else:
                found[label] = body
    return found


def resource(doc: dict[str, Any], address: str) -> dict[str, Any]:
    found = blocks(doc, "resource")
    assert address in found, f"{address} not generated; have {sorted(found)}"
    return found[address]


def local_value(doc: dict[str, Any], name: str) -> Any:
    """The expression of ``local.<name>`` (from whichever locals block defines it)."""
    for entry in doc.get("locals", []):
        if name in entry:
            return entry[name]
    raise AssertionError(f"local.{name} is not defined")


def variable_default(doc: dict[str, Any], name: str) -> Any:
    var = blocks(doc, "variable")[name]
    assert "default" in var, f"variable {name} has no default"
    return var["default"]


def terraform_or_skip(need_mirror: bool = False) -> str:
    """Path of terraform; skip locally if it (or the provider mirror) is missing, fail in CI."""
    path = shutil.which("terraform")
    problem = None
    if path is None:
        problem = "terraform is not on PATH"
    elif need_mirror and not any(PLUGIN_MIRROR.glob("*/hashicorp/aws/*")):
        problem = f"no hashicorp/aws provider in the mirror {PLUGIN_MIRROR}"
    if problem:
        if IN_CI:
            pytest.fail(f"{problem}; CI=true requires it")
        pytest.skip(f"{problem} (set up terraform to run this check)")
    return path  # type: ignore[return-value]


def terraform_env(tmp: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["TF_CLI_CONFIG_FILE"] = str(TERRAFORMRC)
    env["TF_IN_AUTOMATION"] = "1"
    env["CHECKPOINT_DISABLE"] = "1"
    return env


def terraform(args: list[str], cwd: Path, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    binary = terraform_or_skip()
    return subprocess.run(
        [binary, *args],
        cwd=cwd,
        env=terraform_env(),
        input=input_text,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="session")
def aws_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One initialised directory: every AWS module needs the same provider, so init runs once a session."""
    terraform_or_skip(need_mirror=True)
    work = tmp_path_factory.mktemp("aws-validate")
    (work / "main.tf").write_text(generate("aws", "dev", "models"))
    proc = terraform(["init", "-backend=false", "-input=false", "-no-color"], work)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return work
