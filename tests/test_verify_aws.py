"""``generator.verify_aws``: the AWS catalog checked against EC2/RDS, here a local moto server.

moto ships AWS's instance-type and offering data, so the shipped catalog is checked
against real numbers without the internet. Cases moto's data cannot produce (a type
missing from one zone, RDS answering for aurora-mysql, an API error) use botocore's
Stubber, which answers in-process.
"""

from __future__ import annotations

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
    lines = report.lines()
    assert lines[0].startswith("catalog aws.yaml against AWS in us-east-1")
    assert len(lines) == len(CATALOG.cloud.machine_types) + 2
    assert lines[-1].endswith(": verified")
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
    """Duck-typed boto3 Session whose EC2 and RDS clients answer from a Stubber, never the network."""

    def __init__(self) -> None:
        real = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
        self.clients = {name: real.client(name, endpoint_url="http://127.0.0.1:9") for name in ("ec2", "rds")}
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
    report = verify(CATALOG, "us-east-1", session=stubs)
    result = report.result(prod_type)
    assert result.status is Status.NOT_OFFERED
    assert "not offered in us-east-1c (its node group spans us-east-1a, us-east-1b, us-east-1c)" in result.describe()
    dev_type = CATALOG.cloud.nodes["dev"]["models"]
    assert report.result(dev_type).status is Status.OK
    assert not report.ok


def test_rds_orderable_classes_when_rds_answers() -> None:
    stubs = _StubSession()
    _stub_ec2(stubs, {})
    rds = stubs.stubs["rds"]
    rds.add_response(
        "describe_orderable_db_instance_options",
        {"OrderableDBInstanceOptions": [{"Engine": "aurora-mysql", "DBInstanceClass": "db.r6g.large"}]},
        {"Engine": "aurora-mysql", "MaxRecords": 20},
    )
    engine_versions = [v.engine_version for v in CATALOG.cloud.mysql_versions.versions.values()]
    prod_class = CATALOG.cloud.mysql["prod"].type
    spare_class = "db.r6i.4xlarge"
    for name in DB_CLASSES:
        options = [] if name in (prod_class, spare_class) else [{"Engine": "aurora-mysql", "DBInstanceClass": name}]
        for engine_version in engine_versions:
            rds.add_response(
                "describe_orderable_db_instance_options",
                {"OrderableDBInstanceOptions": options},
                {"Engine": "aurora-mysql", "EngineVersion": engine_version, "DBInstanceClass": name},
            )
    report = verify(CATALOG, "us-east-1", session=stubs)
    rds.assert_no_pending_responses()
    assert report.result("db.r6g.large").status is Status.OK
    assert f"orderable for aurora-mysql {', '.join(engine_versions)}" in report.result("db.r6g.large").describe()
    assert report.result(prod_class).status is Status.NOT_OFFERED
    assert report.result(spare_class).status is Status.OK
    assert "not a chosen class" in report.result(spare_class).describe()
    assert not report.ok


def test_rds_access_denied_leaves_db_not_checked() -> None:
    stubs = _StubSession()
    _stub_ec2(stubs, {})
    stubs.stubs["rds"].add_client_error("describe_orderable_db_instance_options", "AccessDenied", "not authorized")
    report = verify(CATALOG, "us-east-1", session=stubs)
    assert report.ok
    assert all(report.result(n).status is Status.NOT_CHECKED for n in DB_CLASSES)
    assert "RDS answered AccessDenied" in report.result(DB_CLASSES[0]).describe()


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
