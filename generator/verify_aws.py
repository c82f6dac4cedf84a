"""``gen-tf catalog verify --cloud aws``: check the AWS catalog against the AWS APIs.

The catalog states each machine type's vCPUs, memory and architecture and picks
the types the module deploys. This module asks AWS whether that is so:

* EC2 ``DescribeInstanceTypes`` for every Kubernetes-node type (every
  ``machine_types`` entry with ``service: kubernetes``): ``VCpuInfo.DefaultVCpus``,
  ``MemoryInfo.SizeInMiB`` / 1024 and ``ProcessorInfo.SupportedArchitectures``
  must equal the catalog's ``vcpu``, ``memory_gib`` and ``arch``.
* EC2 ``DescribeInstanceTypeOfferings`` for the region: each chosen node type
  (``nodes``) must be offered in the region and in every zone its tier's node
  group spans. The module puts subnets in the first three regular, available
  zones by name and a tier's nodes in the first ``tiers.<tier>.zones`` of those
  (templates/aws/locals.tf.j2, cluster.tf.j2), so those are the zones checked.
* ``service: mysql`` entries (``db.*``) are RDS classes, not EC2 types: their vCPU and memory are not
  checkable via EC2. RDS ``DescribeOrderableDBInstanceOptions`` (engine
  aurora-mysql, each catalog engine version) confirms each class is orderable in
  the region when RDS answers for aurora-mysql at all; an endpoint with no
  aurora-mysql data (moto) leaves them NOT CHECKED, said so per class.

boto3 is imported inside :func:`verify` only, so nothing on the generate path
loads it and gen-tf works without it installed. Every AWS failure becomes a
one-line :class:`VerifyError`.
"""

from __future__ import annotations

import enum
import re
from contextlib import contextmanager
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .catalog import Catalog, CloudCatalog, MachineType, load_reference
from .errors import GenTfError

if TYPE_CHECKING:  # pragma: no cover - typing only; boto3 stays off the import path
    import boto3

# DescribeInstanceTypes takes at most 100 instance types per call; filters use the same batch.
BATCH = 100
RDS_ENGINE = "aurora-mysql"
# local.azs in templates/aws/locals.tf.j2: the first three zones by name.
MODULE_ZONES = 3


class VerifyError(GenTfError):
    """AWS could not be asked (unreachable, no credentials, an API error); ``str()`` is one line."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


class Status(str, enum.Enum):
    OK = "OK"
    MISMATCH = "MISMATCH"
    UNKNOWN = "UNKNOWN"
    NOT_OFFERED = "NOT OFFERED"
    NOT_CHECKED = "NOT CHECKED"


# Worst first: a type's status is the worst of its findings.
_SEVERITY = (Status.UNKNOWN, Status.MISMATCH, Status.NOT_OFFERED, Status.NOT_CHECKED, Status.OK)


@dataclass(frozen=True)
class Mismatch:
    """One field the catalog states differently from AWS."""

    field: str
    catalog: str
    aws: str

    def __str__(self) -> str:
        return f"{self.field}: catalog {self.catalog}, AWS {self.aws}"


@dataclass(frozen=True)
class TypeResult:
    """What AWS says about one catalog machine type."""

    name: str
    kind: str  # "node" (EC2 instance type) or "db" (RDS instance class)
    status: Status
    mismatches: tuple[Mismatch, ...] = ()
    # Where the catalog chooses it: "dev/models", ... for nodes, "dev", "prod" for the database.
    chosen_for: tuple[str, ...] = ()
    # Why it is UNKNOWN / NOT OFFERED / NOT CHECKED, and notes (offering of types not chosen).
    details: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status in (Status.OK, Status.NOT_CHECKED)

    def describe(self) -> str:
        parts = [str(m) for m in self.mismatches] + list(self.details)
        if self.chosen_for:
            role = "nodes" if self.kind == "node" else "database"
            parts.append(f"chosen for {role} {', '.join(self.chosen_for)}")
        return "; ".join(parts)


@dataclass(frozen=True)
class Report:
    region: str
    catalog: str
    endpoint: str | None
    results: tuple[TypeResult, ...]
    # Findings about the region itself (too few zones for the module).
    region_problems: tuple[str, ...] = ()
    apis: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when the region fits and no type is MISMATCH, UNKNOWN or NOT OFFERED (NOT CHECKED passes)."""
        return not self.region_problems and all(r.ok for r in self.results)

    def result(self, name: str) -> TypeResult:
        for item in self.results:
            if item.name == name:
                return item
        raise KeyError(name)

    def by_status(self, status: Status) -> list[TypeResult]:
        return [r for r in self.results if r.status is status]

    def lines(self) -> list[str]:
        where = f"{self.region}" + (f" at {self.endpoint}" if self.endpoint else "")
        out = [f"catalog {self.catalog} against AWS in {where} ({', '.join(self.apis)}):"]
        status_width = max(len(s.value) for s in Status)
        name_width = max((len(r.name) for r in self.results), default=0)
        for item in self.results:
            text = f"  {item.status.value:<{status_width}}  {item.name:<{name_width}}  {item.describe()}"
            out.append(text.rstrip())
        for problem in self.region_problems:
            out.append(f"  {'REGION':<{status_width}}  {problem}")
        counts = ", ".join(
            f"{len(self.by_status(s))} {s.value}" for s in reversed(_SEVERITY) if self.by_status(s)
        )
        if self.region_problems:
            counts += f", {len(self.region_problems)} region problem(s)"
        out.append(f"{counts}: {'verified' if self.ok else 'FAILED'}")
        return out


# ---- AWS calls ----------------------------------------------------------------


def _batches(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


class _Aws:
    """The boto3 clients and the calls this check makes, each error mapped to VerifyError."""

    def __init__(self, region: str, endpoint_url: str | None, session: Any, retries: int | None) -> None:
        try:
            import boto3
            from botocore.config import Config
        except ImportError:  # pragma: no cover - depends on the installation
            raise VerifyError("catalog verify --cloud aws needs boto3: pip install boto3") from None
        if session is None:
            session = boto3.session.Session(region_name=region)
        if endpoint_url and session.get_credentials() is None:
            # An emulator (moto) accepts any signature: dummy credentials when none are configured.
            session = boto3.session.Session(
                aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
            )
        config = Config(
            region_name=region,
            # Standard retries; attempts from AWS_MAX_ATTEMPTS / the profile unless given.
            retries={"mode": "standard", **({"max_attempts": retries} if retries else {})},
            connect_timeout=10,
            read_timeout=60,
            user_agent_extra="gen-tf-catalog-verify",
        )
        self.region = region
        self.endpoint_url = endpoint_url
        self.ec2 = session.client("ec2", region_name=region, endpoint_url=endpoint_url, config=config)
        self.rds = session.client("rds", region_name=region, endpoint_url=endpoint_url, config=config)

    @contextmanager
    def _errors(self, client: Any, operation: str) -> Iterator[None]:
        """Map botocore failures of one API call to a one-line VerifyError."""
        from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

        api = f"{client.meta.service_model.service_name.upper()} {_api_name(operation)}"
        try:
            yield
        except NoCredentialsError:
            raise VerifyError(
                f"{api}: no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
                "or run where an instance or container role applies)"
            ) from None
        except EndpointConnectionError as exc:
            endpoint = exc.kwargs.get("endpoint_url", "")
            raise VerifyError(f"{api} in {self.region}: cannot reach the endpoint {endpoint}") from None
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise _ClientFailure(api, self.region, error.get("Code", "Error"), error.get("Message", "")) from None
        except BotoCoreError as exc:
            raise VerifyError(f"{api} in {self.region}: {exc}") from None

    def _pages(self, client: Any, operation: str, **params: Any) -> Iterator[dict[str, Any]]:
        with self._errors(client, operation):
            yield from client.get_paginator(operation).paginate(**params)

    def instance_types(self, names: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for batch in _batches(names):
            # A filter, not the InstanceTypes parameter: an unknown name then matches nothing
            # (and is reported UNKNOWN) instead of failing the whole call with InvalidInstanceType.
            filters = [{"Name": "instance-type", "Values": batch}]
            for page in self._pages(self.ec2, "describe_instance_types", Filters=filters):
                for item in page.get("InstanceTypes", []):
                    found[item["InstanceType"]] = item
        return found

    def offerings(self, names: list[str], location_type: str) -> dict[str, set[str]]:
        """Instance type -> the locations (the region, or zone names) it is offered in."""
        offered: dict[str, set[str]] = {}
        for batch in _batches(names):
            filters = [{"Name": "instance-type", "Values": batch}]
            pages = self._pages(
                self.ec2, "describe_instance_type_offerings", LocationType=location_type, Filters=filters
            )
            for page in pages:
                for item in page.get("InstanceTypeOfferings", []):
                    offered.setdefault(item["InstanceType"], set()).add(item["Location"])
        return offered

    def module_zones(self) -> list[str]:
        """The zones the module uses: regular, available zones by name, the first three."""
        filters = [
            {"Name": "zone-type", "Values": ["availability-zone"]},
            {"Name": "state", "Values": ["available"]},
        ]
        with self._errors(self.ec2, "describe_availability_zones"):
            response = self.ec2.describe_availability_zones(Filters=filters)
        names = sorted(z["ZoneName"] for z in response.get("AvailabilityZones", []))
        return names[:MODULE_ZONES]

    def rds_answers(self) -> bool:
        """Whether RDS knows any orderable aurora-mysql class here (moto knows none)."""
        with self._errors(self.rds, "describe_orderable_db_instance_options"):
            page = self.rds.describe_orderable_db_instance_options(Engine=RDS_ENGINE, MaxRecords=20)
        return bool(page.get("OrderableDBInstanceOptions"))

    def orderable(self, db_class: str, engine_version: str) -> bool:
        pages = self._pages(
            self.rds,
            "describe_orderable_db_instance_options",
            Engine=RDS_ENGINE,
            EngineVersion=engine_version,
            DBInstanceClass=db_class,
        )
        return any(page.get("OrderableDBInstanceOptions") for page in pages)


class _ClientFailure(VerifyError):
    """An AWS API answered with an error (AccessDenied, InvalidParameterValue, ...)."""

    def __init__(self, api: str, region: str, code: str, message: str) -> None:
        self.api = api
        self.code = code
        super().__init__(f"{api} in {region} failed: {code}" + (f": {message}" if message else ""))


def _api_name(operation: str) -> str:
    return "".join(part.capitalize() for part in operation.split("_"))


# ---- comparison ---------------------------------------------------------------


def _fmt(number: float) -> str:
    return f"{number:g}"


def _compare(spec: MachineType, aws: dict[str, Any]) -> list[Mismatch]:
    found: list[Mismatch] = []
    vcpus = aws.get("VCpuInfo", {}).get("DefaultVCpus")
    if vcpus != spec.vcpu:
        found.append(Mismatch("vcpu", str(spec.vcpu), "missing" if vcpus is None else str(vcpus)))
    mib = aws.get("MemoryInfo", {}).get("SizeInMiB")
    if mib is None or abs(mib / 1024 - spec.memory_gib) > 1e-9:
        shown = "missing" if mib is None else f"{_fmt(mib / 1024)} GiB ({mib} MiB)"
        found.append(Mismatch("memory_gib", f"{_fmt(spec.memory_gib)} GiB", shown))
    archs = list(aws.get("ProcessorInfo", {}).get("SupportedArchitectures", []))
    if spec.arch not in archs:
        found.append(Mismatch("arch", spec.arch, ", ".join(archs) or "missing"))
    return found


def _worst(statuses: Iterable[Status]) -> Status:
    present = set(statuses)
    return next((s for s in _SEVERITY if s in present), Status.OK)


def _chosen_nodes(cat: CloudCatalog) -> dict[str, list[tuple[str, str]]]:
    chosen: dict[str, list[tuple[str, str]]] = {}
    for tier, row in cat.nodes.items():
        for products, name in row.items():
            chosen.setdefault(name, []).append((tier, products))
    return chosen


def _chosen_db(cat: CloudCatalog) -> dict[str, list[str]]:
    chosen: dict[str, list[str]] = {}
    for tier, choice in cat.mysql.items():
        chosen.setdefault(choice.type, []).append(tier)
    return chosen


def verify(
    catalog: Catalog | CloudCatalog,
    region: str,
    *,
    endpoint_url: str | None = None,
    session: boto3.session.Session | None = None,
    retries: int | None = None,
) -> Report:
    """Check ``catalog``'s AWS machine types and chosen types against AWS in ``region``.

    ``session`` is a boto3 Session (default: a new one, so the normal credential
    chain applies); ``endpoint_url`` points EC2 and RDS at an emulator (tests),
    with dummy credentials when none are configured. ``retries`` is botocore's
    total attempts per call (default: AWS_MAX_ATTEMPTS or the profile's, else 3).
    Raises :class:`VerifyError` when AWS cannot be asked.
    """
    if isinstance(catalog, Catalog):
        cat, tiers, label = catalog.cloud, catalog.reference.tiers, catalog.path
    else:
        cat, tiers, label = catalog, load_reference().tiers, f"{catalog.cloud}.yaml"
    if cat.cloud != "aws":
        raise VerifyError(f"catalog {label} is for {cat.cloud}; this check is for aws")
    if not re.fullmatch(cat.region_pattern, region):
        raise VerifyError(f"region {region!r} is not an AWS region name; use one like {cat.defaults.region}")

    aws = _Aws(region, endpoint_url, session, retries)
    # The catalog says which types are EC2 instance types (Kubernetes nodes) and which RDS classes.
    node_names = [n for n, m in cat.machine_types.items() if m.service == "kubernetes"]
    db_names = [n for n, m in cat.machine_types.items() if m.service == "mysql"]
    chosen_nodes = _chosen_nodes(cat)
    chosen_db = _chosen_db(cat)

    described = aws.instance_types(node_names)
    in_region = aws.offerings(node_names, "region")
    zones = aws.module_zones()
    in_zones = aws.offerings([n for n in node_names if n in chosen_nodes], "availability-zone")

    results: list[TypeResult] = []
    for name in node_names:
        spec = cat.machine_types[name]
        uses = chosen_nodes.get(name, [])
        labels = tuple(f"{tier}/{products}" for tier, products in uses)
        if name not in described:
            unknown = ("not returned by EC2 DescribeInstanceTypes",)
            results.append(TypeResult(name, "node", Status.UNKNOWN, chosen_for=labels, details=unknown))
            continue
        mismatches = _compare(spec, described[name])
        statuses = [Status.MISMATCH] if mismatches else []
        details: list[str] = [] if mismatches else [f"{spec.vcpu} vCPU, {_fmt(spec.memory_gib)} GiB, {spec.arch}"]
        if region not in in_region.get(name, set()):
            if uses:
                statuses.append(Status.NOT_OFFERED)
                details.append(f"not offered in {region}")
            else:
                details.append(f"not offered in {region} (not a chosen node type)")
        elif uses:
            # Zones beyond those the region has are a region problem, reported once below.
            need = zones[: max(tiers[tier].zones for tier, _ in uses)]
            missing = [z for z in need if z not in in_zones.get(name, set())]
            if missing:
                statuses.append(Status.NOT_OFFERED)
                details.append(f"not offered in {', '.join(missing)} (its node group spans {', '.join(need)})")
            else:
                details.append(f"offered in {', '.join(need)}")
        results.append(TypeResult(name, "node", _worst(statuses), tuple(mismatches), labels, tuple(details)))

    results.extend(_check_db(aws, cat, db_names, chosen_db, region))
    region_problems = ()
    if len(zones) < MODULE_ZONES:
        region_problems = (
            f"{region} has {len(zones)} available zone(s) ({', '.join(zones) or 'none'}); the module's network "
            f"takes the first {MODULE_ZONES} (local.azs), so it cannot be applied there",
        )
    apis = ("EC2 DescribeInstanceTypes", "DescribeInstanceTypeOfferings", "RDS DescribeOrderableDBInstanceOptions")
    return Report(region, label, endpoint_url, tuple(results), region_problems, apis)


def _check_db(
    aws: _Aws, cat: CloudCatalog, names: list[str], chosen: dict[str, list[str]], region: str
) -> list[TypeResult]:
    if not names:
        return []
    not_ec2 = "RDS class: vCPU/memory not checkable via EC2"
    try:
        answers = aws.rds_answers()
    except _ClientFailure as exc:
        # Missing RDS permissions should not hide the EC2 results: say so per class.
        return _not_checked(names, chosen, (not_ec2, f"RDS answered {exc.code}: orderability not checked"))
    if not answers:
        reason = f"RDS lists no orderable {RDS_ENGINE} classes in {region} (an emulator?): orderability not checked"
        return _not_checked(names, chosen, (not_ec2, reason))
    versions = list(dict.fromkeys(v.engine_version for v in cat.mysql_versions.versions.values()))
    results = []
    for name in names:
        uses = tuple(chosen.get(name, []))
        missing = [v for v in versions if not aws.orderable(name, v)]
        details = [not_ec2]
        status = Status.OK
        if missing:
            text = f"not orderable for {RDS_ENGINE} {', '.join(missing)} in {region}"
            if uses:
                status = Status.NOT_OFFERED
                details.append(text)
            else:
                details.append(f"{text} (not a chosen class)")
        else:
            details.append(f"orderable for {RDS_ENGINE} {', '.join(versions)}")
        results.append(TypeResult(name, "db", status, chosen_for=uses, details=tuple(details)))
    return results


def _not_checked(names: list[str], chosen: dict[str, list[str]], details: tuple[str, ...]) -> list[TypeResult]:
    return [
        TypeResult(n, "db", Status.NOT_CHECKED, chosen_for=tuple(chosen.get(n, [])), details=details) for n in names
    ]
