"""``generator.verify_aws``: the AWS catalog checked against EC2/RDS, here a local moto server.

moto ships AWS's instance-type and offering data, so the shipped catalog is checked
against real numbers without the internet. Cases moto's data cannot produce (a type
missing from one zone, RDS answering for aurora-mysql, an API error) use botocore's
Stubber, which answers in-process. moto 5.2.1 has none of the version APIs (EKS
DescribeClusterVersions: HTTP 404; RDS DescribeDBMajorEngineVersions and
DescribeDBEngineVersions: HTTP 500, an HTML page): against it those checks are NOT
CHECKED lines; what AWS would answer is stubbed.
"""

from __future__ import annotations

import datetime
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO, run_cli
from generator import verify_aws
from generator.catalog import load_catalog
from generator.errors import GenTfError
from generator.verify_aws import Status, VerifyError, verify

boto3 = pytest.importorskip("boto3", reason="catalog verify --cloud aws needs boto3")
pytest.importorskip("moto.server", reason="needs moto[server] for a local EC2")
from botocore.stub import Stubber  # noqa: E402 - after the skip guard

from moto.ec2.models.instance_types import INSTANCE_TYPE_OFFERINGS  # noqa: E402

CATALOG = load_catalog("aws")
EC2_TYPES = [n for n in CATALOG.cloud.machine_types if not n.startswith("db.")]
# In catalog order, as verify() sends them.
CHOSEN = [n for n in EC2_TYPES if any(n in row.values() for row in CATALOG.cloud.nodes.values())]
DB_CLASSES = [n for n in CATALOG.cloud.machine_types if n.startswith("db.")]
K8S = CATALOG.cloud.kubernetes_versions.versions
MYSQL = CATALOG.cloud.mysql_versions.versions
AS_OF = CATALOG.cloud.as_of
# The lines for the version checks moto cannot answer, and why.
MOTO_NOT_CHECKED = {
    "kubernetes support": "EKS DescribeClusterVersions is not available at this endpoint (HTTP 404): "
    "Kubernetes support dates and status not checked",
    "mysql support": "RDS DescribeDBMajorEngineVersions gave an answer that is not an AWS API response "
    "(an emulator without this API?): MySQL support dates not checked",
    "mysql engines": "RDS DescribeDBEngineVersions gave an answer that is not an AWS API response "
    "(an emulator without this API?): whether each MySQL version can be created not checked",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def moto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto server on a free local port, stopped by its PID afterwards."""
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "server.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"moto server exited with {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("moto server did not listen within 30 s")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture()
def session() -> Any:
    """Explicit dummy credentials: nothing from the host's AWS setup is read."""
    return boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")


def _overlay(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "overlay.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_catalog("aws", (str(path),))


def _assert_one_line(report_or_error: Any) -> None:
    lines = report_or_error.lines() if hasattr(report_or_error, "lines") else [str(report_or_error)]
    assert all("\n" not in line for line in lines)


# ---- against moto ---------------------------------------------------------------


def test_shipped_catalog_verifies_in_us_east_1(moto_url: str, session: Any) -> None:
    report = verify(CATALOG, "us-east-1", endpoint_url=moto_url, session=session)
    assert report.ok, "\n".join(report.lines())
    assert [r.name for r in report.results] == list(CATALOG.cloud.machine_types)
    assert {r.name for r in report.by_status(Status.OK)} == set(EC2_TYPES)
    # moto has no aurora-mysql orderable options: DB classes are explicitly not checked.
    for name in DB_CLASSES:
        result = report.result(name)
        assert result.status is Status.NOT_CHECKED
        assert "not checkable via EC2" in result.describe()
    for name in CHOSEN:
        assert "offered in us-east-1a" in report.result(name).describe()
    # moto has none of the version APIs: one NOT CHECKED line per check, naming why; still verified.
    assert [(r.name, r.status, r.describe()) for r in report.versions] == [
        (name, Status.NOT_CHECKED, reason) for name, reason in MOTO_NOT_CHECKED.items()
    ]
    lines = report.lines()
    assert lines[0].startswith("catalog aws.yaml against AWS in us-east-1")
    assert len(lines) == len(CATALOG.cloud.machine_types) + len(MOTO_NOT_CHECKED) + 2
    assert lines[-1] == f"{len(EC2_TYPES)} OK, {len(DB_CLASSES) + len(MOTO_NOT_CHECKED)} NOT CHECKED: verified"
    _assert_one_line(report)


@pytest.mark.parametrize(
    "name,field,wrong,catalog_text,aws_text",
    [
        ("r7i.large", "vcpu", "vcpu: 4", "4", "2"),
        ("m6i.xlarge", "memory_gib", "memory_gib: 32", "32 GiB", "16 GiB (16384 MiB)"),
        ("r7i.large", "arch", "arch: arm64", "arm64", "x86_64"),
        ("r6i.large", "vcpu", "vcpu: 3", "3", "2"),
    ],
)
def test_wrong_value_is_a_mismatch_naming_the_field(
    moto_url: str, session: Any, tmp_path: Path, name: str, field: str, wrong: str, catalog_text: str, aws_text: str
) -> None:
    cat = _overlay(tmp_path, f"machine_types:\n  {name}: {{{wrong}}}\n")
    report = verify(cat, "us-east-1", endpoint_url=moto_url, session=session)
    result = report.result(name)
    assert result.status is Status.MISMATCH
    assert [(m.field, m.catalog, m.aws) for m in result.mismatches] == [(field, catalog_text, aws_text)]
    assert not report.ok
    line = next(line for line in report.lines() if f" {name} " in line)
    assert line.lstrip().startswith("MISMATCH") and f"{field}: catalog {catalog_text}, AWS {aws_text}" in line
    assert report.lines()[-1].endswith("FAILED")
    others = [r for r in report.results if r.name != name and not r.name.startswith("db.")]
    assert all(r.status is Status.OK for r in others)


def test_unknown_type_is_unknown(moto_url: str, session: Any, tmp_path: Path) -> None:
    cat = _overlay(tmp_path, "machine_types:\n  r6i.colossal: {vcpu: 999, memory_gib: 1, arch: x86_64, family: r6i, service: kubernetes}\n")
    report = verify(cat, "us-east-1", endpoint_url=moto_url, session=session)
    result = report.result("r6i.colossal")
    assert result.status is Status.UNKNOWN
    assert "not returned by EC2 DescribeInstanceTypes" in result.describe()
    assert not report.ok
    assert report.result("r6i.large").status is Status.OK


def _region_without(instance_type: str) -> str | None:
    """A region in moto's data that offers other types but not ``instance_type``."""
    for region, offers in sorted(INSTANCE_TYPE_OFFERINGS["region"].items()):
        names = {o["InstanceType"] for o in offers}
        if names and instance_type not in names:
            return region
    return None


def test_type_not_offered_in_region(moto_url: str, session: Any) -> None:
    chosen = CATALOG.cloud.nodes["dev"]["models"]
    region = _region_without(chosen)
    if region is None:
        pytest.skip(f"moto's offering data lists {chosen} in every region")
    report = verify(CATALOG, region, endpoint_url=moto_url, session=session)
    result = report.result(chosen)
    assert result.status is Status.NOT_OFFERED
    assert f"not offered in {region}" in result.describe()
    assert "dev/models" in result.chosen_for
    assert not report.ok
    # A type the catalog lists but does not choose is noted, not failed.
    spare = [n for n in EC2_TYPES if n not in CHOSEN and region not in _offered(n, region)]
    for name in spare:
        assert report.result(name).status is Status.OK
        assert "not a chosen node type" in report.result(name).describe()


def _offered(name: str, region: str) -> set[str]:
    return {o["Location"] for o in INSTANCE_TYPE_OFFERINGS["region"].get(region, []) if o["InstanceType"] == name}


def test_region_with_too_few_zones(moto_url: str, session: Any) -> None:
    ec2 = session.client("ec2", region_name="us-west-1", endpoint_url=moto_url)
    zones = ec2.describe_availability_zones()["AvailabilityZones"]
    if len(zones) >= 3:
        pytest.skip("moto's us-west-1 has three zones")
    report = verify(CATALOG, "us-west-1", endpoint_url=moto_url, session=session)
    assert not report.ok
    assert len(report.region_problems) == 1
    assert "has 2 available zone(s)" in report.region_problems[0]
    assert any(line.lstrip().startswith("REGION") for line in report.lines())


def test_small_batches_page_through_everything(moto_url: str, session: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = verify(CATALOG, "us-east-1", endpoint_url=moto_url, session=session)
    monkeypatch.setattr(verify_aws, "BATCH", 3)
    batched = verify(CATALOG, "us-east-1", endpoint_url=moto_url, session=session)
    assert batched == whole


def test_dummy_credentials_when_none_with_an_endpoint(
    moto_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_host_credentials(tmp_path, monkeypatch)
    report = verify(CATALOG, "us-east-1", endpoint_url=moto_url)
    assert report.ok


def _no_host_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_no_credentials_is_one_line(moto_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_host_credentials(tmp_path, monkeypatch)
    # Belt and braces: should a request ever be sent, it goes to moto, not AWS.
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    with pytest.raises(VerifyError) as caught:
        verify(CATALOG, "us-east-1")
    assert "no AWS credentials found" in str(caught.value)
    _assert_one_line(caught.value)


def test_unreachable_endpoint_is_one_line(session: Any) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    started = time.monotonic()
    with pytest.raises(VerifyError) as caught:
        verify(CATALOG, "us-east-1", endpoint_url=url, session=session, retries=1)
    assert time.monotonic() - started < 10
    message = str(caught.value)
    assert message.startswith("EC2 DescribeInstanceTypes in us-east-1: cannot reach the endpoint http://127.0.0.1:")
    assert isinstance(caught.value, GenTfError)
    _assert_one_line(caught.value)


@pytest.mark.parametrize(
    "cloud,region,message",
    [("gcp", "us-east-1", "is for gcp"), ("aws", "Mars", "not an AWS region name")],
)
def test_refuses_wrong_input_before_calling_aws(cloud: str, region: str, message: str) -> None:
    with pytest.raises(VerifyError, match=message):
        verify(load_catalog(cloud), region, endpoint_url="http://127.0.0.1:9")


# ---- stubbed: what moto's data cannot show ------------------------------------------


class _StubSession:
    """Duck-typed boto3 Session whose EC2, RDS and EKS clients answer from a Stubber, never the network."""

    def __init__(self) -> None:
        real = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
        self.clients = {name: real.client(name, endpoint_url="http://127.0.0.1:9") for name in ("ec2", "rds", "eks")}
        self.stubs = {name: Stubber(client) for name, client in self.clients.items()}
        for stub in self.stubs.values():
            stub.activate()

    def get_credentials(self) -> object:
        return object()

    def client(self, name: str, **_: Any) -> Any:
        return self.clients[name]


def _types_response() -> dict[str, Any]:
    items = []
    for name in EC2_TYPES:
        spec = CATALOG.cloud.machine_types[name]
        items.append(
            {
                "InstanceType": name,
                "VCpuInfo": {"DefaultVCpus": spec.vcpu},
                "MemoryInfo": {"SizeInMiB": int(spec.memory_gib * 1024)},
                "ProcessorInfo": {"SupportedArchitectures": [spec.arch]},
            }
        )
    return {"InstanceTypes": items}


def _stub_ec2(stubs: _StubSession, zone_offers: dict[str, list[str]]) -> None:
    ec2 = stubs.stubs["ec2"]
    ec2.add_response("describe_instance_types", _types_response())
    region = [{"InstanceType": n, "LocationType": "region", "Location": "us-east-1"} for n in EC2_TYPES]
    ec2.add_response("describe_instance_type_offerings", {"InstanceTypeOfferings": region})
    zones = [{"ZoneName": z, "State": "available"} for z in ("us-east-1c", "us-east-1a", "us-east-1b", "us-east-1d")]
    ec2.add_response("describe_availability_zones", {"AvailabilityZones": zones})
    offers = [
        {"InstanceType": n, "LocationType": "availability-zone", "Location": z}
        for n in CHOSEN
        for z in zone_offers.get(n, ["us-east-1a", "us-east-1b", "us-east-1c"])
    ]
    ec2.add_response(
        "describe_instance_type_offerings",
        {"InstanceTypeOfferings": offers},
        {"LocationType": "availability-zone", "Filters": [{"Name": "instance-type", "Values": CHOSEN}]},
    )


def test_type_missing_from_one_of_the_module_zones() -> None:
    stubs = _StubSession()
    prod_type = CATALOG.cloud.nodes["prod"]["models"]
    # Offered in a, b, d: prod spans the first three zones by name, a, b and c.
    _stub_ec2(stubs, {prod_type: ["us-east-1a", "us-east-1b", "us-east-1d"]})
    stubs.stubs["rds"].add_response("describe_orderable_db_instance_options", {"OrderableDBInstanceOptions": []})
    _stub_versions(stubs)
    report = verify(CATALOG, "us-east-1", session=stubs, today=AS_OF)
    result = report.result(prod_type)
    assert result.status is Status.NOT_OFFERED
    assert "not offered in us-east-1c (its node group spans us-east-1a, us-east-1b, us-east-1c)" in result.describe()
    dev_type = CATALOG.cloud.nodes["dev"]["models"]
    assert report.result(dev_type).status is Status.OK
    assert not report.ok


def test_rds_orderable_classes_when_rds_answers() -> None:
    """Orderability is asked per class for every build; a catalog major ("8.0") matches builds "8.0.*"."""
    stubs = _StubSession()
    _stub_ec2(stubs, {})
    rds = stubs.stubs["rds"]
    rds.add_response(
        "describe_orderable_db_instance_options",
        {"OrderableDBInstanceOptions": [{"Engine": "aurora-mysql", "DBInstanceClass": "db.r6g.large"}]},
        {"Engine": "aurora-mysql", "MaxRecords": 20},
    )
    engine_versions = [v.engine_version for v in MYSQL.values()]
    assert engine_versions == ["8.0", "8.4"]  # majors only: the API would refuse them as an EngineVersion filter
    every_build = ["8.0.mysql_aurora.3.10.3", "8.0.mysql_aurora.3.12.0", "8.4.mysql_aurora.8.4.7"]
    prod_class = CATALOG.cloud.mysql["prod"].type
    spare_class = "db.r6i.4xlarge"
    # The prod class only for 8.0; the spare class for 8.0 and a build that starts with "8.4" but is not 8.4.
    builds = {prod_class: every_build[:2], spare_class: ["8.0.mysql_aurora.3.10.3", "8.41.0"]}
    for name in DB_CLASSES:
        options = [
            {"Engine": "aurora-mysql", "EngineVersion": build, "DBInstanceClass": name}
            for build in builds.get(name, every_build)
        ]
        rds.add_response(
            "describe_orderable_db_instance_options",
            {"OrderableDBInstanceOptions": options},
            {"Engine": "aurora-mysql", "DBInstanceClass": name},
        )
    _stub_versions(stubs)
    report = verify(CATALOG, "us-east-1", session=stubs, today=AS_OF)
    rds.assert_no_pending_responses()
    assert report.result("db.r6g.large").status is Status.OK
    assert "orderable for aurora-mysql 8.0, 8.4" in report.result("db.r6g.large").describe()
    assert report.result(prod_class).status is Status.NOT_OFFERED
    assert "not orderable for aurora-mysql 8.4 in us-east-1" in report.result(prod_class).describe()
    assert report.result(spare_class).status is Status.OK
    assert "not orderable for aurora-mysql 8.4 in us-east-1 (not a chosen class)" in report.result(spare_class).describe()
    assert not report.ok


def test_rds_access_denied_leaves_db_not_checked() -> None:
    stubs = _StubSession()
    _stub_ec2(stubs, {})
    rds = stubs.stubs["rds"]
    rds.add_client_error("describe_orderable_db_instance_options", "AccessDenied", "not authorized")
    # No RDS permissions at all: the version checks that need RDS are not made either, one line each.
    rds.add_client_error("describe_db_major_engine_versions", "AccessDenied", "not authorized")
    rds.add_client_error("describe_db_engine_versions", "AccessDenied", "not\nauthorized")
    stubs.stubs["eks"].add_response("describe_cluster_versions", {"clusterVersions": _eks_versions(AS_OF)})
    report = verify(CATALOG, "us-east-1", session=stubs, today=AS_OF)
    assert report.ok
    assert all(report.result(n).status is Status.NOT_CHECKED for n in DB_CLASSES)
    assert "RDS answered AccessDenied" in report.result(DB_CLASSES[0]).describe()
    mysql = [r for r in report.versions if r.kind == "mysql"]
    assert [(r.name, r.status, r.describe()) for r in mysql] == [
        ("mysql support", Status.NOT_CHECKED, "RDS DescribeDBMajorEngineVersions answered AccessDenied: MySQL support dates not checked"),
        (
            "mysql engines",
            Status.NOT_CHECKED,
            "RDS DescribeDBEngineVersions answered AccessDenied: whether each MySQL version can be created not checked",
        ),
    ]
    assert report.result("kubernetes 1.36").status is Status.OK
    _assert_one_line(report)


def test_ec2_api_error_is_one_line() -> None:
    stubs = _StubSession()
    stubs.stubs["ec2"].add_client_error(
        "describe_instance_types", "UnauthorizedOperation", "You are not authorized\nto perform this operation."
    )
    with pytest.raises(VerifyError) as caught:
        verify(CATALOG, "us-east-1", session=stubs)
    assert str(caught.value) == (
        "EC2 DescribeInstanceTypes in us-east-1 failed: UnauthorizedOperation: "
        "You are not authorized to perform this operation."
    )


# ---- stubbed: the version APIs (moto has none of them) ----------------------------------

UTC = datetime.timezone.utc
EKS_LIST = {"includeAll": True}
ENGINE_FILTER = {"Engine": "aurora-mysql", "Filters": [{"Name": "status", "Values": ["available"]}]}
BUILDS = ["8.0.mysql_aurora.3.10.3", "8.0.mysql_aurora.3.12.0", "8.4.mysql_aurora.8.4.7"]


def _at(day: datetime.date | None) -> datetime.datetime | None:
    return None if day is None else datetime.datetime(day.year, day.month, day.day, tzinfo=UTC)


def _eks_status(window: Any, today: datetime.date) -> str:
    """EKS's versionStatus for the catalog's dates on ``today`` (written out, not taken from verify_aws)."""
    if today < window.end_of_standard_support:
        return "STANDARD_SUPPORT"
    return "EXTENDED_SUPPORT" if today < window.end_of_extended_support else "UNSUPPORTED"


def _eks_version(version: str, window: Any, today: datetime.date, **change: Any) -> dict[str, Any]:
    item = {
        "clusterVersion": version,
        "clusterType": "eks",
        "releaseDate": _at(window.released),
        "endOfStandardSupportDate": _at(window.end_of_standard_support),
        "endOfExtendedSupportDate": _at(window.end_of_extended_support),
        "versionStatus": _eks_status(window, today),
        "defaultVersion": False,
    }
    return {key: value for key, value in {**item, **change}.items() if value is not None}


def _eks_versions(today: datetime.date, skip: tuple[str, ...] = (), **changes: dict[str, Any]) -> list[dict[str, Any]]:
    """What EKS would list if it agreed with the catalog; ``changes`` keyed "v1_35" alter one version."""
    return [
        _eks_version(v, w, today, **changes.get("v" + v.replace(".", "_"), {})) for v, w in K8S.items() if v not in skip
    ]


def _major(version: str, standard_end: datetime.date | None, extended_end: datetime.date | None) -> dict[str, Any]:
    lifecycles = []
    start = _at(MYSQL[version].released) if version in MYSQL else _at(datetime.date(2030, 1, 1))
    for name, end in (("open-source-rds-standard-support", standard_end), ("open-source-rds-extended-support", extended_end)):
        if end is not None:
            lifecycles.append({"LifecycleSupportName": name, "LifecycleSupportStartDate": start, "LifecycleSupportEndDate": _at(end)})
    return {"Engine": "aurora-mysql", "MajorEngineVersion": version, "SupportedEngineLifecycles": lifecycles}


def _majors(*, absent: tuple[str, ...] = (), **ends: tuple[datetime.date | None, datetime.date | None]) -> list[dict[str, Any]]:
    """RDS's aurora-mysql majors agreeing with the catalog; ``ends`` keyed "v8_0" set (standard, extended) end dates."""
    found = {v: (w.end_of_standard_support, w.end_of_extended_support) for v, w in MYSQL.items()}
    found.update({key[1:].replace("_", "."): value for key, value in ends.items()})
    return [_major(version, *pair) for version, pair in found.items() if version not in absent]


def _builds(names: list[str]) -> dict[str, Any]:
    return {
        "DBEngineVersions": [
            {"Engine": "aurora-mysql", "EngineVersion": n, "Status": "available", "SupportedEngineModes": ["provisioned"]}
            for n in names
        ]
    }


def _stub_versions(
    stubs: _StubSession,
    eks: list[dict[str, Any]] | None = None,
    majors: list[dict[str, Any]] | None = None,
    builds: list[str] | None = None,
) -> None:
    """Queue the three version answers (default: AWS agrees with the catalog on its as_of)."""
    stubs.stubs["rds"].add_response(
        "describe_db_major_engine_versions",
        {"DBMajorEngineVersions": _majors() if majors is None else majors},
        {"Engine": "aurora-mysql"},
    )
    stubs.stubs["rds"].add_response("describe_db_engine_versions", _builds(BUILDS if builds is None else builds), ENGINE_FILTER)
    stubs.stubs["eks"].add_response(
        "describe_cluster_versions", {"clusterVersions": _eks_versions(AS_OF) if eks is None else eks}, EKS_LIST
    )


def _versions_report(today: datetime.date = AS_OF, **answers: Any) -> Any:
    """verify() with EC2 agreeing, RDS listing no orderable classes, and the version APIs answering ``answers``."""
    stubs = _StubSession()
    _stub_ec2(stubs, {})
    stubs.stubs["rds"].add_response("describe_orderable_db_instance_options", {"OrderableDBInstanceOptions": []})
    _stub_versions(stubs, **answers)
    report = verify(CATALOG, "us-east-1", session=stubs, today=today)
    for stub in stubs.stubs.values():
        stub.assert_no_pending_responses()
    return report


def _line(report: Any, name: str) -> str:
    """The report line of the check called ``name``."""
    return next(line for line in report.lines() if f"  {name}  " in line)


def test_versions_that_match_aws_are_ok() -> None:
    report = _versions_report()
    assert report.ok, "\n".join(report.lines())
    names = [f"kubernetes {v}" for v in K8S] + [f"mysql {v}" for v in MYSQL]
    assert [r.name for r in report.versions] == names
    assert all(r.status is Status.OK and not r.mismatches for r in report.versions)
    k8s = report.result("kubernetes 1.34").describe()
    assert k8s == "released 2025-10-02, standard support to 2026-12-02, extended to 2027-12-02; EKS: EXTENDED_SUPPORT"
    assert report.result("kubernetes 1.36").describe().endswith("EKS: STANDARD_SUPPORT; the default")
    assert report.result("mysql 8.0").describe() == (
        "standard support to 2028-04-30, extended to 2029-07-31; creatable: 2 available aurora-mysql 8.0.* build(s)"
    )
    assert report.result("mysql 8.4").describe() == (
        "standard support to not announced, extended to not announced; creatable: 1 available aurora-mysql 8.4.* build(s); "
        "the default"
    )
    assert _line(report, "kubernetes 1.29").lstrip().startswith("OK")
    assert report.lines()[-1].endswith(": verified")


def test_eks_pages_are_all_read() -> None:
    stubs = _StubSession()
    _stub_ec2(stubs, {})
    stubs.stubs["rds"].add_response("describe_orderable_db_instance_options", {"OrderableDBInstanceOptions": []})
    stubs.stubs["rds"].add_response("describe_db_major_engine_versions", {"DBMajorEngineVersions": _majors()})
    stubs.stubs["rds"].add_response("describe_db_engine_versions", _builds(BUILDS))
    every = _eks_versions(AS_OF)
    eks = stubs.stubs["eks"]
    eks.add_response("describe_cluster_versions", {"clusterVersions": every[:3], "nextToken": "page-2"}, EKS_LIST)
    eks.add_response("describe_cluster_versions", {"clusterVersions": every[3:]}, {**EKS_LIST, "nextToken": "page-2"})
    report = verify(CATALOG, "us-east-1", session=stubs, today=AS_OF)
    eks.assert_no_pending_responses()
    k8s = [r for r in report.versions if r.kind == "kubernetes"]
    assert len(k8s) == len(K8S)
    assert all(r.status is Status.OK and "not listed" not in r.describe() for r in k8s)


def test_dates_in_another_time_zone_are_compared_in_utc() -> None:
    """botocore gives timestamps in local time: 2027-03-26 20:00 at UTC-4 is 2027-03-27 in UTC."""
    eastern = datetime.timezone(datetime.timedelta(hours=-4))
    same_day = datetime.datetime(2027, 3, 26, 20, 0, tzinfo=eastern)
    day_before = datetime.datetime(2027, 3, 26, 19, 59, tzinfo=eastern)
    report = _versions_report(eks=_eks_versions(AS_OF, v1_35={"endOfStandardSupportDate": same_day}))
    assert report.result("kubernetes 1.35").status is Status.OK
    report = _versions_report(eks=_eks_versions(AS_OF, v1_35={"endOfStandardSupportDate": day_before}))
    assert [str(m) for m in report.result("kubernetes 1.35").mismatches] == [
        "end_of_standard_support: catalog 2027-03-27, AWS 2027-03-26"
    ]


def test_mismatched_dates_and_status_name_the_field() -> None:
    eks = _eks_versions(
        AS_OF,
        v1_35={"endOfStandardSupportDate": _at(datetime.date(2027, 3, 28)), "releaseDate": _at(datetime.date(2026, 1, 28))},
        v1_33={"versionStatus": "STANDARD_SUPPORT"},
        v1_36={"endOfExtendedSupportDate": None},
    )
    majors = _majors(v8_0=(datetime.date(2028, 4, 30), datetime.date(2029, 8, 31)), v8_4=(datetime.date(2032, 4, 30), None))
    report = _versions_report(eks=eks, majors=majors)
    assert not report.ok
    assert report.lines()[-1].endswith("FAILED")
    got = {r.name: [str(m) for m in r.mismatches] for r in report.versions if r.status is Status.MISMATCH}
    assert got == {
        "kubernetes 1.33": ["status: catalog extended on 2026-12-02 by its dates, AWS STANDARD_SUPPORT"],
        "kubernetes 1.35": [
            "released: catalog 2026-01-27, AWS 2026-01-28",
            "end_of_standard_support: catalog 2027-03-27, AWS 2027-03-28",
        ],
        "kubernetes 1.36": ["end_of_extended_support: catalog 2028-08-02, AWS none"],
        "mysql 8.0": ["end_of_extended_support: catalog 2029-07-31, AWS 2029-08-31"],
        "mysql 8.4": ["end_of_standard_support: catalog not announced, AWS 2032-04-30"],
    }
    line = _line(report, "kubernetes 1.35")
    assert line.lstrip().startswith("MISMATCH") and "end_of_standard_support: catalog 2027-03-27, AWS 2027-03-28" in line
    # The creatable check still reports beside a date mismatch.
    assert "creatable: 1 available aurora-mysql 8.4.* build(s)" in report.result("mysql 8.4").describe()


def test_versions_newer_than_the_catalog_are_new_not_failures() -> None:
    newer = {
        "clusterVersion": "1.37",
        "releaseDate": _at(datetime.date(2026, 10, 1)),
        "endOfStandardSupportDate": _at(datetime.date(2027, 12, 1)),
        "versionStatus": "STANDARD_SUPPORT",
    }
    odd = {"clusterVersion": "latest", "versionStatus": "STANDARD_SUPPORT"}  # not a version number: ignored
    majors = _majors() + [_major("9.0", datetime.date(2034, 1, 31), None), _major("5.7", datetime.date(2024, 10, 31), None)]
    report = _versions_report(eks=[newer, odd, *_eks_versions(AS_OF)], majors=majors)
    assert report.ok
    assert [r.name for r in report.versions_by_status(Status.NEW)] == ["kubernetes 1.37", "mysql 9.0"]
    assert report.result("kubernetes 1.37").describe() == (
        "listed by EKS (STANDARD_SUPPORT; released 2026-10-01, standard support to 2027-12-01, extended to not announced), "
        "newer than the catalog's newest 1.36: add it to kubernetes_versions"
    )
    assert "newer than the catalog's newest 8.4: add it to mysql_versions" in report.result("mysql 9.0").describe()
    assert _line(report, "kubernetes 1.37").lstrip().startswith("NEW")
    assert report.lines()[-1].startswith(f"{len(EC2_TYPES) + len(K8S) + len(MYSQL)} OK, 2 NEW, ")


def test_a_version_aws_does_not_list() -> None:
    report = _versions_report(eks=_eks_versions(AS_OF, skip=("1.29", "1.35")), majors=_majors(absent=("8.4",)))
    assert not report.ok
    assert report.result("kubernetes 1.35").status is Status.UNKNOWN
    assert report.result("kubernetes 1.35").describe() == "not listed by EKS DescribeClusterVersions"
    # Retired in the catalog: AWS may drop it; the catalog keeps it only to refuse it with its dates.
    assert report.result("kubernetes 1.29").status is Status.OK
    assert "not listed by EKS DescribeClusterVersions; retired in the catalog as of 2026-12-02" in (
        report.result("kubernetes 1.29").describe()
    )
    assert report.result("mysql 8.4").status is Status.UNKNOWN
    assert report.result("mysql 8.4").describe().startswith("not listed by RDS DescribeDBMajorEngineVersions; creatable: ")


def test_a_mysql_version_aurora_cannot_create() -> None:
    report = _versions_report(builds=["8.0.mysql_aurora.3.10.3", "8.41.0"])
    result = report.result("mysql 8.4")
    assert result.status is Status.NOT_OFFERED
    assert "no available aurora-mysql 8.4.* build in us-east-1: a new cluster cannot be created on it" in result.describe()
    assert report.result("mysql 8.0").status is Status.OK
    assert not report.ok


def test_status_moved_since_as_of_is_a_note() -> None:
    """Later than as_of, AWS's status follows the catalog's dates: OK, with a note to move as_of."""
    later = datetime.date(2027, 4, 1)
    report = _versions_report(today=later, eks=_eks_versions(later))
    assert report.ok, "\n".join(report.lines())
    assert report.result("kubernetes 1.35").describe().endswith(
        "EKS: EXTENDED_SUPPORT; standard on the catalog's as_of 2026-12-02, extended on 2027-04-01: "
        "re-read the dates and move as_of"
    )
    assert "as_of" not in report.result("kubernetes 1.36").describe()


def test_eks_access_denied_is_not_checked() -> None:
    stubs = _StubSession()
    _stub_ec2(stubs, {})
    stubs.stubs["rds"].add_response("describe_orderable_db_instance_options", {"OrderableDBInstanceOptions": []})
    stubs.stubs["rds"].add_response("describe_db_major_engine_versions", {"DBMajorEngineVersions": _majors()})
    stubs.stubs["rds"].add_response("describe_db_engine_versions", _builds(BUILDS))
    stubs.stubs["eks"].add_client_error("describe_cluster_versions", "AccessDeniedException", "User: x is not\nauthorized")
    report = verify(CATALOG, "us-east-1", session=stubs, today=AS_OF)
    assert report.ok
    result = report.result("kubernetes support")
    assert (result.status, result.describe()) == (
        Status.NOT_CHECKED,
        "EKS DescribeClusterVersions answered AccessDeniedException: Kubernetes support dates and status not checked",
    )
    assert report.result("mysql 8.0").status is Status.OK
    _assert_one_line(report)


# ---- the command line (runs once generator/cli.py wires `catalog verify`) -----------------


def test_cli_catalog_verify(
    moto_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from generator.cli import cli

    if "catalog" not in cli.commands:
        pytest.skip("`gen-tf catalog verify` is not wired into generator/cli.py yet")
    _no_host_credentials(tmp_path, monkeypatch)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    base = ["catalog", "verify", "--cloud", "aws", "--endpoint-url", moto_url]
    code, out, err = run_cli(base, capsys)
    assert (code, err) == (0, "")
    assert out.splitlines()[-1].endswith(": verified")
    # moto lacks the version APIs: one NOT CHECKED line each, the exit code unaffected, no traceback.
    for name, reason in MOTO_NOT_CHECKED.items():
        assert [line.split() for line in out.splitlines() if f"  {name}  " in line] == [
            ["NOT", "CHECKED", *name.split(), *reason.split()]
        ]
    assert "Traceback" not in out and "<" not in out
    region = _region_without(CATALOG.cloud.nodes["dev"]["models"])
    if region is not None:
        code, out, err = run_cli([*base, "--region", region], capsys)
        assert code == 1 and out.splitlines()[-1].endswith("FAILED") and err == ""
    unreachable = f"http://127.0.0.1:{_free_port()}"
    code, out, err = run_cli(["catalog", "verify", "--cloud", "aws", "--endpoint-url", unreachable], capsys)
    assert code == 2 and out == ""
    assert err.startswith("gen-tf: error: EC2 DescribeInstanceTypes in us-east-1: cannot reach")
    assert err.count("\n") == 1


# ---- boto3 stays off the generate path ------------------------------------------------


def test_generate_path_does_not_import_boto3() -> None:
    script = textwrap.dedent(
        """
        import io, sys
        from contextlib import redirect_stdout
        import generator.cli
        import generator.verify_aws
        out = io.StringIO()
        with redirect_stdout(out):
            code = generator.cli.main(["--cloud", "aws", "--env", "prod", "--products", "both"])
        assert code == 0 and "aws_eks_cluster" in out.getvalue(), code
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("boto3", "botocore"))
        print(",".join(loaded))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"boto3/botocore loaded on the generate path: {done.stdout.strip()}"
