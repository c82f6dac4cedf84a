"""Catalog loading: the shipped catalogs are valid; broken ones fail naming file and field."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from generator.catalog import load_catalog, load_file, load_reference
from generator.errors import CatalogError
from generator.resources import data_dir

REPO = Path(__file__).resolve().parent.parent

CATALOGS = data_dir("catalogs")


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
def test_shipped_catalogs_load(cloud: str) -> None:
    catalog = load_catalog(cloud)
    assert catalog.cloud.cloud == cloud
    assert catalog.reference.min_versions.kubernetes == "1.29"  # R-K8S-4
    assert catalog.reference.min_versions.mysql == "8.0"  # R-DB-1
    assert catalog.cloud.services.kubernetes and catalog.cloud.services.mysql and catalog.cloud.services.object_storage


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
def test_every_family_has_neighbouring_sizes(cloud: str) -> None:
    """Each chosen type's family lists sizes on both sides, so a requirement-based choice is possible."""
    catalog = load_catalog(cloud)
    chosen = {t for row in catalog.cloud.nodes.values() for t in row.values()}
    chosen |= {c.type for c in catalog.cloud.mysql.values()}
    for name in chosen:
        family = catalog.machine(name).family
        sizes = sorted(m.vcpu for m in catalog.cloud.machine_types.values() if m.family == family)
        assert len(sizes) >= 3, f"{family} lists only {sizes}"


def test_reference_rows_match_requirements_md() -> None:
    ref = load_reference()
    assert ref.node_requirements["prod"]["weave"].cpu == 12
    assert ref.node_requirements["prod"]["weave"].memory_gib == 96
    assert ref.mysql_requirements["prod"].disk_gib == 500
    assert ref.db_cpu_alarm.threshold_percent == 40  # R-DB-4
    assert ref.db_cpu_alarm.period_seconds == 300


def _broken(tmp_path: Path, mutate) -> Path:
    data = yaml.safe_load((CATALOGS / "aws.yaml").read_text())
    mutate(data)
    path = tmp_path / "aws.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    "mutate,field,words",
    [
        (lambda d: d.pop("services"), "services", "required but missing"),
        (lambda d: d.update(colour="blue"), "colour", "unknown key"),
        (lambda d: d["machine_types"]["r6i.large"].update(cores=2), "machine_types.r6i.large.cores", "unknown key"),
        (lambda d: d["machine_types"]["r6i.large"].pop("arch"), "machine_types.r6i.large.arch", "required"),
        (lambda d: d["machine_types"]["r6i.large"].update(arch="sparc"), "machine_types.r6i.large.arch", "x86_64"),
        (lambda d: d["nodes"]["prod"].update(both="r6g.4xlarge"), "nodes.prod.both", "R-K8S-5"),
        (lambda d: d["nodes"]["prod"].update(both="r6i.2xlarge"), "nodes.prod.both", "smaller than the requirement"),
        (lambda d: d["nodes"]["dev"].update(models="x9.huge"), "nodes.dev.models", "not in machine_types"),
        (lambda d: d["mysql"]["prod"].update(type="db.r6g.large"), "mysql.prod.type", "smaller than the requirement"),
        (lambda d: d["defaults"].update(kubernetes_version="1.28"), "defaults.kubernetes_version", "must be one of kubernetes_versions"),
        (lambda d: d["kubernetes_versions"]["versions"].update({"1.28": {"released": datetime.date(2023, 9, 26)}}), "kubernetes_versions.versions.1.28", "1.29 or newer"),
        (lambda d: d["mysql_versions"]["versions"].update({"5.7": {"engine_version": "5.7", "released": datetime.date(2018, 1, 1)}}), "mysql_versions.versions.5.7", "8.0 or newer"),
        # Issue 11: a default must be in standard support on the catalog's as_of date.
        (lambda d: d["defaults"].update(kubernetes_version="1.33"), "defaults.kubernetes_version", "a default must be in standard support as of as_of"),
        (lambda d: d.update(as_of=datetime.date(2027, 9, 1)), "defaults.kubernetes_version", "1.36 is extended on 2027-09-01"),
        (lambda d: d["defaults"].update(mysql_version="8.0") or d.update(as_of=datetime.date(2028, 5, 1)) or d["defaults"].update(kubernetes_version="1.36") or d["kubernetes_versions"]["versions"]["1.36"].update(end_of_standard_support=None, end_of_extended_support=None), "defaults.mysql_version", "8.0 is extended on 2028-05-01"),
        (lambda d: d["kubernetes_versions"]["versions"]["1.35"].update(end_of_standard_support=datetime.date(2025, 1, 1)), "kubernetes_versions.versions.1.35.end_of_standard_support", "after released"),
        (lambda d: d["kubernetes_versions"]["versions"]["1.35"].update(end_of_extended_support=datetime.date(2027, 1, 1)), "kubernetes_versions.versions.1.35.end_of_extended_support", "not be before it"),
        (lambda d: d["kubernetes_versions"].update(source="http://example.com"), "kubernetes_versions.source", "pattern"),
        (lambda d: d.pop("as_of"), "as_of", "required"),
    ],
)
def test_broken_catalog_names_file_and_field(tmp_path: Path, mutate, field: str, words: str) -> None:
    path = _broken(tmp_path, mutate)
    with pytest.raises(CatalogError) as info:
        load_file(path)
    message = str(info.value)
    assert str(path) in message
    assert f": {field}:" in message
    assert words in message
    assert "\n" not in message


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "aws.yaml"
    path.write_text("cloud: aws\nservices: [unclosed\n")
    with pytest.raises(CatalogError) as info:
        load_file(path)
    assert str(path) in str(info.value) and "line" in str(info.value)


def test_overlay_extends_the_builtin_catalog(tmp_path: Path) -> None:
    overlay = tmp_path / "extra.yaml"
    overlay.write_text(
        "machine_types:\n  r7a.4xlarge: {vcpu: 16, memory_gib: 128, arch: x86_64, family: r7a, service: kubernetes}\n"
        "nodes:\n  prod: {both: r7a.4xlarge}\n"
    )
    catalog = load_catalog("aws", (str(overlay),))
    assert catalog.cloud.nodes["prod"]["both"] == "r7a.4xlarge"
    assert catalog.cloud.nodes["prod"]["models"] == "r6i.2xlarge"  # untouched cells stay


def test_overlay_for_another_cloud_is_refused(tmp_path: Path) -> None:
    overlay = tmp_path / "extra.yaml"
    overlay.write_text("cloud: gcp\n")
    with pytest.raises(CatalogError, match="cloud"):
        load_catalog("aws", (str(overlay),))


# ---- the validated-catalog cache (issue 2: start-up time) ----------------------------
# Each test runs gen-tf in fresh processes with a cache folder of its own, as users do.

_PROBE = """
import io, sys
from contextlib import redirect_stdout
from generator.cli import main
out = io.StringIO()
with redirect_stdout(out):
    code = main(sys.argv[1:])
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"pydantic", "pydantic_core", "yaml"})
sys.stderr.write("LOADED=" + ",".join(heavy) + "\\n")
sys.stdout.write(out.getvalue())
sys.exit(code)
"""


def _run(cache: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "GEN_TF_NO_CACHE"}
    environ.update(XDG_CACHE_HOME=str(cache), PYTHONPATH=str(REPO), **env)
    args = argv or ("--cloud", "aws", "--env", "prod", "--products", "both")
    return subprocess.run(
        [sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, env=environ, timeout=120, check=False
    )


def _loaded(done: subprocess.CompletedProcess[str]) -> str:
    return next(line for line in done.stderr.splitlines() if line.startswith("LOADED="))[len("LOADED="):]


def _cache_files(cache: Path) -> list[Path]:
    return sorted((cache / "gen-tf").glob("catalog-*/*.pickle"))


def test_a_cached_run_imports_neither_pydantic_nor_yaml(tmp_path: Path) -> None:
    first = _run(tmp_path)
    assert first.returncode == 0, first.stderr
    assert "pydantic" in _loaded(first)  # the first run validates the catalogs through pydantic
    assert len(_cache_files(tmp_path)) == 1
    second = _run(tmp_path)
    assert second.returncode == 0, second.stderr
    assert _loaded(second) == ""
    assert second.stdout == first.stdout and "aws_eks_cluster" in second.stdout


def test_an_edited_catalog_is_validated_again(tmp_path: Path) -> None:
    overlay = tmp_path / "extra.yaml"
    overlay.write_text("nodes:\n  prod: {both: r6i.4xlarge}\n")
    cache = tmp_path / "cache"
    assert _run(cache, "--cloud", "aws", "--env", "prod", "--products", "both", "--catalog", str(overlay)).returncode == 0
    assert _run(cache, "--cloud", "aws", "--env", "prod", "--products", "both", "--catalog", str(overlay)).returncode == 0
    overlay.write_text("nodes:\n  prod: {both: r6g.4xlarge}\n")  # ARM: must be refused, cache or not
    done = _run(cache, "--cloud", "aws", "--env", "prod", "--products", "both", "--catalog", str(overlay))
    assert done.returncode == 2 and done.stdout == ""
    assert f"catalog {overlay}: nodes.prod.both:" in done.stderr and "R-K8S-5" in done.stderr


def test_a_corrupt_cache_entry_is_ignored(tmp_path: Path) -> None:
    expected = _run(tmp_path).stdout
    for entry in _cache_files(tmp_path):
        entry.write_bytes(b"not a pickle")
    done = _run(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected
    assert "pydantic" in _loaded(done)  # validated again, then stored again
    assert _run(tmp_path).stdout == expected and _loaded(_run(tmp_path)) == ""


def test_no_cache_when_disabled_or_unwritable(tmp_path: Path) -> None:
    expected = _run(tmp_path / "a").stdout
    off = _run(tmp_path / "b", GEN_TF_NO_CACHE="1")
    assert off.returncode == 0 and off.stdout == expected
    assert "pydantic" in _loaded(off) and not (tmp_path / "b").exists()
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache folder would go")
    done = _run(blocked)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected


def test_the_cache_keeps_only_the_newest_entries(tmp_path: Path) -> None:
    from generator.catalog import CACHE_ENTRIES

    first = _run(tmp_path)
    (entry,) = _cache_files(tmp_path)
    for number in range(CACHE_ENTRIES + 5):  # entries left by earlier catalog edits
        old = entry.with_name(f"{number:064x}.pickle")
        old.write_bytes(b"")
        os.utime(old, ns=(number, number))
    entry.unlink()
    assert _run(tmp_path).stdout == first.stdout
    left = _cache_files(tmp_path)
    assert len(left) == CACHE_ENTRIES
    assert entry in left and entry.with_name(f"{0:064x}.pickle") not in left


@pytest.mark.parametrize("flag", ["--catalog", "--config"])
def test_a_file_that_is_not_utf8_is_one_line_exit_2(tmp_path: Path, flag: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"\xff\xfe cloud: aws\n")
    args = ["--cloud", "aws", "--env", "dev", "--products", "both", flag, str(bad)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "generator", *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert str(bad) in lines[0] and "file: is not UTF-8 text (byte 0)" in lines[0]


# ---- both caches: only the user's own folder, failures cost the cache, not the run --------


def test_cache_folders_are_private_and_the_users_own(tmp_path: Path, monkeypatch) -> None:
    from generator import resources

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("GEN_TF_NO_CACHE", raising=False)
    old_umask = os.umask(0o002)  # Ubuntu's default for users: folders 0775 unless made otherwise
    try:
        folder = resources.cache_dir("catalog")
    finally:
        os.umask(old_umask)
    assert folder is not None and folder.parent == tmp_path / "gen-tf"
    assert folder.stat().st_mode & 0o777 == 0o700 and folder.parent.stat().st_mode & 0o777 == 0o700
    # Left writable by others (an older gen-tf under umask 002): closed again, entries dropped.
    planted = folder / "0123.pickle"
    planted.write_bytes(b"from someone else")
    folder.chmod(0o777)
    folder.parent.chmod(0o775)
    assert resources.cache_dir("catalog") == folder
    assert folder.stat().st_mode & 0o777 == 0o700 and folder.parent.stat().st_mode & 0o777 == 0o700
    assert not planted.exists()
    # Another user's folder (after one `sudo gen-tf`): not used at all.
    monkeypatch.setattr(os, "getuid", lambda: os.stat(folder).st_uid + 1)
    assert resources.cache_dir("catalog") is None


def test_a_damaged_template_cache_entry_is_recompiled(tmp_path: Path) -> None:
    expected = _run(tmp_path).stdout
    entries = sorted((tmp_path / "gen-tf").glob("jinja-*/*.cache"))
    assert entries
    for entry in entries:
        entry.write_bytes(entry.read_bytes()[:22])  # cut inside the checksum pickle
    done = _run(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected


def test_a_damaged_catalog_cache_entry_of_any_kind_is_ignored(tmp_path: Path) -> None:
    expected = _run(tmp_path).stdout
    for entry in _cache_files(tmp_path):
        entry.write_bytes(b"\x80\x05\x95" + b"\xff" * 8)  # a pickle frame length that overflows
    done = _run(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected


def test_a_template_cache_that_cannot_be_written_does_not_fail_the_run(tmp_path: Path, monkeypatch) -> None:
    import shutil

    from generator import render

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("GEN_TF_NO_CACHE", raising=False)
    from generator.options import parse_options
    from generator.plan import build_plan

    # The catalog is read (and its own cache written) first, so that only the template cache's
    # writes meet the missing folder, whichever tests ran before in this process.
    plan = build_plan(parse_options({"cloud": "aws", "env": "dev", "products": "both"}), load_catalog("aws"))
    env = render.environment()
    assert isinstance(env.bytecode_cache, render._BytecodeCache)
    shutil.rmtree(tmp_path / "gen-tf")  # removed under a running gen-tf: every write now fails
    monkeypatch.setattr(render, "_ENV", env)
    text = render.render_single(plan)
    assert 'resource "aws_eks_cluster"' in text
    assert not (tmp_path / "gen-tf").exists()


def test_the_template_cache_is_keyed_by_the_environment(tmp_path: Path, monkeypatch) -> None:
    from generator import render

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("GEN_TF_NO_CACHE", raising=False)
    first = render._bytecode_cache()
    assert first is not None and Path(first.directory).name.startswith("jinja-")
    source = Path(render.__file__).read_bytes()
    monkeypatch.setattr(Path, "read_bytes", lambda self: source + b"\n# trim_blocks=False" if self.name == "render.py" else source)
    second = render._bytecode_cache()
    assert second is not None and second.directory != first.directory


# ---- R-K8S-5 and machine-type roles: node types vs database classes, ARM by name --------


def _overlay_error(tmp_path: Path, cloud: str, text: str) -> str:
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(text)
    with pytest.raises(CatalogError) as info:
        load_catalog(cloud, (str(overlay),))
    message = str(info.value)
    assert str(overlay) in message and "\n" not in message
    return message


@pytest.mark.parametrize(
    "cloud,arm_type,x86_row",
    [
        ("aws", "r6g.4xlarge", "{vcpu: 16, memory_gib: 128, arch: x86_64, family: r6g, service: kubernetes}"),
        ("aws", "im4gn.4xlarge", "{vcpu: 16, memory_gib: 256, arch: x86_64, family: im4gn, service: kubernetes}"),
        ("gcp", "c4a-highmem-16", "{vcpu: 16, memory_gib: 128, arch: x86_64, family: c4a-highmem, service: kubernetes}"),
        ("azure", "Standard_E16ps_v5", "{vcpu: 16, memory_gib: 128, arch: x86_64, family: Standard_E*ps_v5, service: kubernetes}"),
    ],
)
def test_arm_named_node_choice_is_refused_even_when_arch_says_x86(
    tmp_path: Path, cloud: str, arm_type: str, x86_row: str
) -> None:
    """The reviewer's overlay: a Graviton/Axion/Ampere type claiming x86_64, chosen for nodes."""
    message = _overlay_error(tmp_path, cloud, f"machine_types:\n  {arm_type}: {x86_row}\nnodes:\n  prod: {{both: {arm_type}}}\n")
    assert ": nodes.prod.both:" in message
    assert "R-K8S-5" in message and arm_type in message


@pytest.mark.parametrize(
    "cloud,arm_type",
    [("aws", "r6g.large"), ("aws", "db.r6g.large"), ("gcp", "t2a-standard-4"), ("azure", "Standard_E2ps_v5")],
)
def test_x86_arch_on_an_arm_named_type_is_refused(tmp_path: Path, cloud: str, arm_type: str) -> None:
    """The data can't lie: arch x86_64 on a name arm_type_pattern matches fails, chosen or not."""
    message = _overlay_error(tmp_path, cloud, f"machine_types:\n  {arm_type}: {{arch: x86_64}}\n")
    assert f": machine_types.{arm_type}.arch:" in message
    assert "arm_type_pattern" in message and "R-K8S-5" in message


@pytest.mark.parametrize(
    "cloud,db_class",
    [("aws", "db.r6i.4xlarge"), ("aws", "db.r6g.4xlarge"), ("gcp", "db-n1-highmem-16"), ("azure", "MO_Standard_E16ds_v4")],
)
def test_database_class_as_node_type_is_refused(tmp_path: Path, cloud: str, db_class: str) -> None:
    message = _overlay_error(tmp_path, cloud, f"nodes:\n  prod: {{both: {db_class}}}\n")
    assert ": nodes.prod.both:" in message and "not a Kubernetes node type" in message


@pytest.mark.parametrize(
    "cloud,node_type", [("aws", "r6i.2xlarge"), ("gcp", "n2-highmem-8"), ("azure", "Standard_E8_v5")]
)
def test_node_type_as_mysql_class_is_refused(tmp_path: Path, cloud: str, node_type: str) -> None:
    message = _overlay_error(tmp_path, cloud, f"mysql:\n  prod: {{type: {node_type}}}\n")
    assert ": mysql.prod.type:" in message and "not a MySQL class" in message


@pytest.mark.parametrize(
    "mutate,field,words",
    [
        (lambda d: d.pop("arm_type_pattern"), "arm_type_pattern", "required but missing"),
        (lambda d: d.update(arm_type_pattern="^(a1|"), "arm_type_pattern", "not a valid regular expression"),
        (lambda d: d["machine_types"]["r6i.large"].update(service="postgres"), "machine_types.r6i.large.service", "mysql"),
        (lambda d: d["machine_types"]["r6i.8xlarge"].update(service="mysql"), "machine_types.r6i.8xlarge.service", "family r6i"),
        (lambda d: d["mysql"]["dev"].update(type="r6i.large"), "mysql.dev.type", "not a MySQL class"),
    ],
)
def test_broken_role_or_arm_data_names_file_and_field(tmp_path: Path, mutate, field: str, words: str) -> None:
    path = _broken(tmp_path, mutate)
    with pytest.raises(CatalogError) as info:
        load_file(path)
    message = str(info.value)
    assert str(path) in message and f": {field}:" in message and words in message


def test_an_overlay_type_must_state_its_service(tmp_path: Path) -> None:
    """No default: a database class added without service: mysql must not become a node family."""
    message = _overlay_error(tmp_path, "aws", "machine_types:\n  db.r7i.xlarge: {vcpu: 4, memory_gib: 32, arch: x86_64, family: db.r7i}\n")
    assert ": machine_types.db.r7i.xlarge.service: required but missing" in message
    overlay = tmp_path / "extra.yaml"
    overlay.write_text("machine_types:\n  r7a.4xlarge: {vcpu: 16, memory_gib: 128, arch: x86_64, family: r7a, service: kubernetes}\n")
    assert load_catalog("aws", (str(overlay),)).machine("r7a.4xlarge").service == "kubernetes"


@pytest.mark.parametrize(
    "cloud,overlay,field,words",
    [
        ("aws", "mysql_versions: {versions: {eight: x}}\n", "mysql_versions.versions.eight.[key]", "String should match pattern"),
        ("aws", "machine_types: {r6i.large: {vcpu: true}}\n", "machine_types.r6i.large.vcpu", "valid integer"),
        ("aws", "machine_types: {r6i.large: {memory_gib: .inf}}\n", "machine_types.r6i.large.memory_gib", "finite number"),
        ("aws", "arm_type_pattern: '^(?=x)a1'\n", "arm_type_pattern", "RE2"),
        ("aws", "arm_type_pattern: '^(a)\\\\1'\n", "arm_type_pattern", "RE2"),
        ("azure", "settings: {private_endpoints: {file: {subresource: file, dns_zone: z}}}\n", "settings.private_endpoints.file", "allowed: blob, key_vault"),
        ("azure", "settings: {private_endpoints: {blob: x}}\n", "settings.private_endpoints.blob", "subresource and dns_zone"),
        ("azure", "settings: {private_endpoints: {blob: {subresource: blob, dns_zone: 3}}}\n", "settings.private_endpoints.blob.dns_zone", "non-empty string"),
    ],
)
def test_review_found_catalog_inputs_are_one_line(tmp_path: Path, cloud: str, overlay: str, field: str, words: str) -> None:
    message = _overlay_error(tmp_path, cloud, overlay)
    assert f": {field}: " in message and words in message, message
