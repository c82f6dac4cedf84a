"""--out-dir never loses work (issue 12): a manifest records what gen-tf wrote; only those files,
unchanged, are ever replaced or removed; another layer or cloud in the same directory is refused.
Also -o FILE (written whole or not at all) and the header that regenerates every output."""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

import pytest

from conftest import REPO, run_cli
from generator.outdir import MANIFEST

AWS = ["--cloud", "aws", "--env", "dev", "--products", "both", "--domain", "wandb.example.com"]
APP = ["--cloud", "aws", "--env", "dev", "--products", "both", "--domain", "wandb.example.com", "--layer", "app"]


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def mtimes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


# ---- another module in the same directory ------------------------------------------------

def test_the_app_layer_is_refused_in_an_infra_directory(tmp_path: Path, capsys) -> None:
    assert run_cli([*AWS, "--out-dir", str(tmp_path)], capsys)[0] == 0
    before = snapshot(tmp_path)
    code, out, err = run_cli([*APP, "--out-dir", str(tmp_path)], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "holds the infra module for aws" in err and "writes the app module for aws" in err
    assert snapshot(tmp_path) == before  # cluster.tf, database.tf, ... all still there


def test_another_cloud_is_refused_even_with_force(tmp_path: Path, capsys) -> None:
    assert run_cli([*AWS, "--out-dir", str(tmp_path)], capsys)[0] == 0
    before = snapshot(tmp_path)
    gcp = ["--cloud", "gcp", "--env", "dev", "--products", "both", "--out-dir", str(tmp_path), "--force"]
    code, _, err = run_cli(gcp, capsys)
    assert code == 2 and "the infra module for aws" in err and "the infra module for gcp" in err
    assert snapshot(tmp_path) == before


def test_a_directory_from_before_manifests_is_recognised_by_its_headers(tmp_path: Path, capsys) -> None:
    """gen-tf 0.1 wrote no manifest: the 'Regenerate with' header still tells the module apart."""
    assert run_cli([*AWS, "--out-dir", str(tmp_path)], capsys)[0] == 0
    (tmp_path / MANIFEST).unlink()
    before = snapshot(tmp_path)
    code, _, err = run_cli([*APP, "--out-dir", str(tmp_path), "--force"], capsys)
    assert code == 2 and "holds the infra module for aws" in err and "cluster.tf" in err
    assert snapshot(tmp_path) == before


# ---- edited files are never lost ---------------------------------------------------------

def test_an_edited_single_file_module_is_kept(tmp_path: Path, capsys) -> None:
    """A stdout main.tf the user edited, then --out-dir on the same folder: main.tf stays, and is named."""
    code, out, _ = run_cli(AWS, capsys)
    (tmp_path / "main.tf").write_text(out + "\n# my own addition\n")
    code, _, err = run_cli([*AWS, "--out-dir", str(tmp_path)], capsys)
    assert code == 0, err
    assert (tmp_path / "main.tf").read_text().endswith("# my own addition\n")
    assert "= main.tf: a gen-tf file this module did not write" in err


def test_an_edited_generated_file_needs_force(tmp_path: Path, capsys) -> None:
    assert run_cli([*AWS, "--out-dir", str(tmp_path)], capsys)[0] == 0
    edited = tmp_path / "database.tf"
    edited.write_text(edited.read_text() + "\n# tuned by hand\n")
    before = snapshot(tmp_path)
    prod = ["--cloud", "aws", "--env", "prod", "--products", "both", "--domain", "wandb.example.com", "--out-dir", str(tmp_path)]
    code, out, err = run_cli(prod, capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "database.tf is changed since gen-tf wrote it" in err and "--force" in err and "--dry-run" in err
    assert snapshot(tmp_path) == before  # nothing written, not even the unedited files
    code, _, err = run_cli([*prod, "--dry-run"], capsys)
    assert code == 0 and "  ! database.tf: changed since gen-tf wrote it" in err
    assert snapshot(tmp_path) == before
    code, _, err = run_cli([*prod, "--force"], capsys)
    assert code == 0, err
    assert "  ~ database.tf (was changed since gen-tf wrote it; overwritten: --force)" in err
    assert "# tuned by hand" not in edited.read_text()


def test_a_file_no_longer_generated_but_edited_is_kept(tmp_path: Path, capsys) -> None:
    assert run_cli([*AWS, "--out-dir", str(tmp_path)], capsys)[0] == 0
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    manifest["files"]["extra.tf"] = "sha256:" + "0" * 64  # recorded, but its content differs now
    (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    (tmp_path / "extra.tf").write_text("# the team's edit\n")
    code, _, err = run_cli([*AWS, "--out-dir", str(tmp_path)], capsys)
    assert code == 0, err
    assert (tmp_path / "extra.tf").read_text() == "# the team's edit\n"
    assert "= extra.tf: changed since gen-tf wrote it and no longer generated" in err


def test_a_damaged_manifest_is_an_error_not_a_guess(tmp_path: Path, capsys) -> None:
    assert run_cli([*AWS, "--out-dir", str(tmp_path)], capsys)[0] == 0
    (tmp_path / MANIFEST).write_text("{not json")
    code, _, err = run_cli([*AWS, "--out-dir", str(tmp_path)], capsys)
    assert code == 2 and err.count("\n") == 1 and "is not a gen-tf manifest" in err


# ---- reports, no needless writes ---------------------------------------------------------

def test_names_every_file_and_rewrites_nothing_when_nothing_changed(tmp_path: Path, capsys) -> None:
    code, _, err = run_cli([*AWS, "--out-dir", str(tmp_path)], capsys)
    assert code == 0
    assert "14 added, 0 changed, 0 removed, 0 unchanged" in err
    assert "  + cluster.tf" in err and f"  + {MANIFEST}" in err
    before = mtimes(tmp_path)
    os.utime(tmp_path / "cluster.tf", ns=(1, 1))  # an old mtime: a rewrite would move it
    before["cluster.tf"] = 1
    code, _, err = run_cli([*AWS, "--out-dir", str(tmp_path)], capsys)
    assert code == 0 and "is up to date; nothing written" in err
    assert mtimes(tmp_path) == before


def test_a_change_rewrites_only_the_changed_files(tmp_path: Path, capsys) -> None:
    assert run_cli([*AWS, "--out-dir", str(tmp_path)], capsys)[0] == 0
    (tmp_path / "dns.tf").unlink()
    for path in tmp_path.iterdir():
        os.utime(path, ns=(1, 1))
    code, _, err = run_cli([*AWS, "--out-dir", str(tmp_path)], capsys)
    assert code == 0, err
    assert "1 added, 0 changed, 0 removed, 13 unchanged" in err and "  + dns.tf" in err
    assert sorted(rel for rel, ns in mtimes(tmp_path).items() if ns != 1) == ["dns.tf"]


def test_dry_run_writes_nothing(tmp_path: Path, capsys) -> None:
    target = tmp_path / "new"
    code, out, err = run_cli([*AWS, "--out-dir", str(target), "--dry-run"], capsys)
    assert code == 0 and out == "" and "would change: 14 added" in err and "  + versions.tf" in err
    assert not target.exists()


def test_check_as_json_for_ci(tmp_path: Path, capsys) -> None:
    assert run_cli([*AWS, "--out-dir", str(tmp_path)], capsys)[0] == 0
    code, out, _ = run_cli([*AWS, "--out-dir", str(tmp_path), "--check", "--format", "json"], capsys)
    report = json.loads(out)
    assert code == 0 and report["up_to_date"] is True and report["layer"] == "infra" and report["cloud"] == "aws"
    (tmp_path / "outputs.tf").write_text((tmp_path / "outputs.tf").read_text() + "# edit\n")
    (tmp_path / "dns.tf").unlink()
    code, out, err = run_cli([*AWS, "--out-dir", str(tmp_path), "--check", "--format", "json"], capsys)
    report = json.loads(out)
    assert code == 1 and err == ""
    assert (report["up_to_date"], report["added"], report["changed"]) == (False, ["dns.tf"], ["outputs.tf"])
    assert report["conflicts"] == [{"path": "outputs.tf", "reason": "changed since gen-tf wrote it"}]
    assert shlex.split(report["command"])[-2:] == ["--out-dir", str(tmp_path)]


@pytest.mark.parametrize(
    "argv,option,words",
    [
        (["--out-dir", ""], "--out-dir", "empty string"),
        (["-o", ""], "-o", "empty string"),
        (["--dry-run"], "--dry-run", "needs --out-dir"),
        (["--format", "json"], "--format", "needs --out-dir"),
        (["--out-dir", "x", "-o", "y"], "-o", "alternatives"),
        (["--out-dir", "x", "--check", "--dry-run"], "--dry-run", "alternatives"),
    ],
)
def test_out_dir_option_errors(capsys, argv: list[str], option: str, words: str) -> None:
    code, out, err = run_cli([*AWS, *argv], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"gen-tf: error: {option}: ") and words in err


@pytest.mark.parametrize("length", [300, 5000])
def test_a_very_long_out_dir_is_one_line(tmp_path: Path, capsys, length: int) -> None:
    code, out, err = run_cli([*AWS, "--out-dir", str(tmp_path / ("d" * length))], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("gen-tf: error: --out-dir:") and "too long" in err
    assert list(tmp_path.iterdir()) == []


def test_an_out_dir_that_is_a_file_is_one_line(tmp_path: Path, capsys) -> None:
    (tmp_path / "f").write_text("x")
    code, _, err = run_cli([*AWS, "--out-dir", str(tmp_path / "f")], capsys)
    assert code == 2 and err.count("\n") == 1 and "--out-dir" in err and "is a file" in err


# ---- -o FILE ------------------------------------------------------------------------------

def test_output_file_is_written_whole(tmp_path: Path, capsys) -> None:
    target = tmp_path / "main.tf"
    code, out, err = run_cli([*AWS, "-o", str(target)], capsys)
    assert code == 0 and out == "" and f"wrote {target}" in err
    assert target.read_text() == run_cli(AWS, capsys)[1]
    assert [p.name for p in tmp_path.iterdir()] == ["main.tf"]


def test_a_failed_output_file_leaves_no_partial_file(tmp_path: Path, monkeypatch, capsys) -> None:
    target = tmp_path / "main.tf"

    def full(fd, *args, **kwargs):
        os.close(fd)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fdopen", full)
    code, _, err = run_cli([*AWS, "-o", str(target)], capsys)
    assert code == 2 and "No space left on device" in err and "nothing was written" in err
    assert list(tmp_path.iterdir()) == []  # no empty main.tf, no temporary file


def test_output_file_refuses_a_foreign_file(tmp_path: Path, capsys) -> None:
    target = tmp_path / "main.tf"
    target.write_text('resource "null_resource" "mine" {}\n')
    code, _, err = run_cli([*AWS, "-o", str(target)], capsys)
    assert code == 2 and "was not generated by gen-tf" in err and "--force" in err
    assert target.read_text() == 'resource "null_resource" "mine" {}\n'
    assert run_cli([*AWS, "-o", str(target), "--force"], capsys)[0] == 0


# ---- the header regenerates the output (issue 12 §2) --------------------------------------

def _regenerate(header_command: str, cwd: Path, capsys) -> str:
    argv = shlex.split(header_command)
    assert argv[0] == "gen-tf"
    old = Path.cwd()
    os.chdir(cwd)
    try:
        code, out, err = run_cli(argv[1:], capsys)
    finally:
        os.chdir(old)
    assert code == 0, err
    return out


def test_every_example_is_regenerated_from_its_own_header(capsys) -> None:
    examples = sorted((REPO / "examples").glob("*/main.tf"))
    assert len(examples) == 18
    for path in examples:
        text = path.read_text()
        command = text.splitlines()[1].removeprefix("#   ")
        assert _regenerate(command, REPO, capsys) == text, path


def test_every_app_example_is_regenerated_from_its_manifest(tmp_path: Path, capsys) -> None:
    for folder in sorted((REPO / "examples").glob("app-*")):
        manifest = json.loads((folder / MANIFEST).read_text())
        target = tmp_path / folder.name
        argv = [*shlex.split(manifest["command"])[1:], "--out-dir", str(target)]
        code, _, err = run_cli(argv, capsys)
        assert code == 0, err
        assert snapshot(target) == snapshot(folder), folder.name


def test_an_overlay_is_named_with_its_hash_and_reproduces(tmp_path: Path, capsys) -> None:
    overlay = tmp_path / "extra.yaml"
    overlay.write_text("machine_types:\n  r7i.16xlarge: {vcpu: 64, memory_gib: 512, arch: x86_64, family: r7i, service: kubernetes}\n")
    config = tmp_path / "gen-tf.yaml"
    config.write_text("cloud: aws\nenv: prod\nproducts: both\nnode_family: r7i\ncatalog: extra.yaml\n")
    code, out, err = run_cli(["--config", str(config)], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[1].endswith(f"--node-family r7i --catalog {overlay}")
    assert lines[2].startswith(f"# Catalog overlay {overlay}: sha256:") and len(lines[2].split("sha256:")[1]) == 64
    assert _regenerate(lines[1].removeprefix("#   "), REPO, capsys) == out
    overlay.write_text(overlay.read_text() + "# changed\n")
    assert _regenerate(lines[1].removeprefix("#   "), REPO, capsys).splitlines()[2] != lines[2]


@pytest.mark.parametrize(
    "content,key,words",
    [
        ("catalog: 3\n", "catalog", "catalog file path"),
        ("tags:\n  owner:\n", "tags.owner", "is empty"),
        ("tags:\n  owner: {a: b}\n", "tags.owner", "a dict"),
        ("tags:\n  on: yes\n", "tags.True", "boolean"),
    ],
)
def test_config_values_of_the_wrong_type_are_refused(tmp_path: Path, capsys, content: str, key: str, words: str) -> None:
    config = tmp_path / "gen-tf.yaml"
    config.write_text("cloud: aws\nenv: dev\nproducts: both\n" + content)
    code, out, err = run_cli(["--config", str(config)], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert f"config {config}: {key}: " in err and words in err


# ---- a regeneration never moves what the deployment cannot follow (issues 11, 13) -----------

BASE = ["--cloud", "aws", "--env", "dev", "--products", "both", "--domain", "wandb.example.com"]


def test_a_kubernetes_jump_of_two_minors_is_refused(tmp_path: Path, capsys) -> None:
    assert run_cli([*BASE, "--k8s-version", "1.34", "--out-dir", str(tmp_path)], capsys)[0] == 0
    before = snapshot(tmp_path)
    code, _, err = run_cli([*BASE, "--out-dir", str(tmp_path)], capsys)  # the default, 1.36
    assert code == 2 and err.count("\n") == 1
    assert "records Kubernetes 1.34; this run writes 1.36" in err and "pass --k8s-version 1.35" in err
    assert snapshot(tmp_path) == before
    assert run_cli([*BASE, "--k8s-version", "1.35", "--out-dir", str(tmp_path)], capsys)[0] == 0
    code, _, err = run_cli([*BASE, "--k8s-version", "1.34", "--out-dir", str(tmp_path)], capsys)
    assert code == 2 and "never back" in err


def test_a_mysql_major_upgrade_must_be_asked_for(tmp_path: Path, capsys) -> None:
    assert run_cli([*BASE, "--mysql-version", "8.0", "--out-dir", str(tmp_path)], capsys)[0] == 0
    code, _, err = run_cli([*BASE, "--out-dir", str(tmp_path)], capsys)  # a newer default: 8.4
    assert code == 2 and "a major upgrade is in place and irreversible" in err and "--mysql-version 8.4" in err
    assert run_cli([*BASE, "--mysql-version", "8.4", "--out-dir", str(tmp_path)], capsys)[0] == 0
    code, _, err = run_cli([*BASE, "--mysql-version", "8.0", "--out-dir", str(tmp_path)], capsys)
    assert code == 2 and "never downgraded" in err


def test_a_new_name_or_region_is_another_deployment(tmp_path: Path, capsys) -> None:
    assert run_cli([*BASE, "--out-dir", str(tmp_path)], capsys)[0] == 0
    for extra, words in ((["--name", "other"], "records --name wandb; this run writes other"), (["--region", "eu-west-1"], "records --region us-east-1")):
        code, _, err = run_cli([*BASE, *extra, "--out-dir", str(tmp_path)], capsys)
        assert code == 2 and words in err and "another directory" in err
    recorded = json.loads((tmp_path / MANIFEST).read_text())["settings"]
    assert recorded == {"name": "wandb", "region": "us-east-1", "kubernetes_version": "1.36", "mysql_version": "8.4"}


def test_a_gen_tf_0_1_directory_keeps_its_versions(tmp_path: Path, capsys) -> None:
    """A 0.1 module has no manifest: its header's command and 0.1's defaults (Kubernetes 1.32,
    MySQL 8.0) stand in, so regenerating with 0.2's defaults cannot jump four minors or upgrade
    MySQL's major version unasked."""
    legacy = (
        "# Generated by gen-tf; do not edit by hand. Regenerate with:\n"
        "#   gen-tf --cloud aws --env dev --products both --domain wandb.example.com\n"
        'terraform {\n  required_version = ">= 1.6"\n}\n'
    )
    (tmp_path / "main.tf").write_text(legacy)
    code, _, err = run_cli([*BASE, "--out-dir", str(tmp_path), "--force"], capsys)
    assert code == 2 and "(gen-tf 0.1) says Kubernetes 1.32; this run writes 1.36" in err and "--k8s-version 1.33" in err
    code, _, err = run_cli([*BASE, "--k8s-version", "1.33", "--out-dir", str(tmp_path), "--force"], capsys)
    assert code == 2 and "says MySQL 8.0; this run writes 8.4 (a newer default)" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["main.tf"]
    code, _, err = run_cli([*BASE, "--k8s-version", "1.33", "--mysql-version", "8.0", "--out-dir", str(tmp_path)], capsys)
    assert code == 0, err
    # The old single file stays (gen-tf did not record it) and the report says to remove it.
    assert (tmp_path / "main.tf").read_text() == legacy
    assert "= main.tf: a gen-tf file this module did not write" in err and "remove it" in err
    # An explicit version in the 0.1 header is what it was generated with.
    other = tmp_path / "pinned"
    other.mkdir()
    (other / "main.tf").write_text(legacy.replace("wandb.example.com\n", "wandb.example.com --k8s-version 1.35 --mysql-version 8.4\n"))
    assert run_cli([*BASE, "--out-dir", str(other)], capsys)[0] == 0


def test_a_running_version_the_cloud_no_longer_creates_can_be_kept_and_stepped_up(tmp_path: Path, capsys) -> None:
    """GKE no longer creates 1.32 clusters (catalog as of 2026-12-02), but a deployment on it still
    runs in extended support: its directory may be regenerated at 1.32 and at 1.33, one step up."""
    gcp = ["--cloud", "gcp", "--env", "prod", "--products", "both", "--domain", "wandb.example.com", "--mysql-version", "8.0"]
    code, _, err = run_cli([*gcp, "--k8s-version", "1.32"], capsys)
    assert code == 2 and "can no longer be used for a new Google Kubernetes Engine" in err
    (tmp_path / "main.tf").write_text(
        "# Generated by gen-tf; do not edit by hand. Regenerate with:\n"
        "#   gen-tf --cloud gcp --env prod --products both --domain wandb.example.com\n"
    )
    for version in ("1.32", "1.33"):
        code, _, err = run_cli([*gcp, "--k8s-version", version, "--out-dir", str(tmp_path), "--dry-run"], capsys)
        assert code == 0, err
        assert f"Kubernetes {version} can no longer be used for a new" in err and "accepted for this existing deployment" in err
    code, _, err = run_cli([*gcp, "--k8s-version", "1.33", "--out-dir", str(tmp_path)], capsys)
    assert code == 0, err
    variables = (tmp_path / "variables.tf").read_text()
    assert 'default     = "1.33"' in variables and '["1.33", "1.34", "1.35", "1.36"]' in variables
    # The next regeneration steps from what the manifest now records.
    code, _, err = run_cli([*gcp, "--k8s-version", "1.34", "--out-dir", str(tmp_path), "--dry-run"], capsys)
    assert code == 0 and "accepted for this existing deployment" not in err
    code, _, err = run_cli([*gcp, "--k8s-version", "1.32", "--out-dir", str(tmp_path), "--dry-run"], capsys)
    assert code == 2 and "Kubernetes 1.32 can no longer be used for a new" in err  # never back down
