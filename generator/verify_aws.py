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
  aurora-mysql, per class, every engine version) confirms each class is
  orderable in the region for each catalog engine version. The catalog's Aurora
  engine versions are majors ("8.0"), which the API does not take as an
  ``EngineVersion`` filter, so a returned build counts when it starts with
  ``<major>.``. An endpoint with no aurora-mysql data at all (moto) leaves the
  classes NOT CHECKED, said so per class.

The dated version lists (issue 11) are checked too, on the day AWS answers:

* EKS ``DescribeClusterVersions`` (``includeAll``, paginated): each catalog
  Kubernetes minor's ``released`` / ``end_of_standard_support`` /
  ``end_of_extended_support`` must equal ``releaseDate`` /
  ``endOfStandardSupportDate`` / ``endOfExtendedSupportDate`` (UTC dates), and
  its status by the catalog's dates on that day must equal ``versionStatus``.
  A minor EKS does not list is UNKNOWN (a note only when the catalog has it
  retired: nothing creates it); a minor newer than the catalog's newest is NEW,
  which does not fail the check: the catalog leaves a version out until its
  dates are published, and the line tells maintainers to add it.
* RDS ``DescribeDBMajorEngineVersions`` (aurora-mysql): each catalog MySQL
  version's end dates must equal the ``LifecycleSupportEndDate`` of
  ``open-source-rds-standard-support`` / ``open-source-rds-extended-support``.
* RDS ``DescribeDBEngineVersions`` (aurora-mysql, status available): each
  catalog MySQL engine version must have an available provisioned build
  starting with it, or a new cluster cannot be created on it (NOT OFFERED when
  gen-tf accepts the version).

A version check AWS cannot answer (access denied, an API the endpoint does not
have) is one NOT CHECKED line naming why, and does not change the exit code.
moto 5.2.1, the emulator the tests use, answers none of the three version APIs:
``DescribeClusterVersions`` is an HTTP 404 with an HTML page, and the two RDS
calls an HTTP 500 with an HTML page, which botocore cannot parse
(``ResponseParserError``, not a ``BotoCoreError``; mapped here so it is never a
traceback). It also has no aurora-mysql orderable options.

boto3 is imported inside :func:`verify` only, so nothing on the generate path
loads it and gen-tf works without it installed. Every AWS failure becomes a
one-line :class:`VerifyError`.
"""

from __future__ import annotations

import datetime
import enum
import re
from contextlib import contextmanager
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .catalog import Catalog, CloudCatalog, MachineType, MysqlVersion, SupportWindow, load_reference, version_tuple
from .errors import GenTfError

if TYPE_CHECKING:  # pragma: no cover - typing only; boto3 stays off the import path
    import boto3

# DescribeInstanceTypes takes at most 100 instance types per call; filters use the same batch.
BATCH = 100
RDS_ENGINE = "aurora-mysql"
# local.azs in templates/aws/locals.tf.j2: the first three zones by name.
MODULE_ZONES = 3
# EKS versionStatus (and the deprecated status) -> the catalog's word for the same phase.
EKS_PHASES = {
    "STANDARD_SUPPORT": "standard",
    "EXTENDED_SUPPORT": "extended",
    "UNSUPPORTED": "retired",
    "standard-support": "standard",
    "extended-support": "extended",
    "unsupported": "retired",
}
RDS_STANDARD = "open-source-rds-standard-support"
RDS_EXTENDED = "open-source-rds-extended-support"
# Error codes meaning "this endpoint has no such API" (an emulator): botocore puts the HTTP status
# in the code when the error body is not AWS's (moto's HTML 404).
NOT_IMPLEMENTED = {"404", "501", "NotImplemented", "UnknownOperation", "UnknownOperationException", "InvalidAction"}


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
    # A version AWS lists that is newer than the catalog's newest: add it (not a failure).
    NEW = "NEW"


# Worst first: a type's status is the worst of its findings.
_SEVERITY = (Status.UNKNOWN, Status.MISMATCH, Status.NOT_OFFERED, Status.NOT_CHECKED, Status.NEW, Status.OK)
# The statuses that pass the check.
_PASSING = (Status.OK, Status.NOT_CHECKED, Status.NEW)


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
    """What AWS says about one catalog machine type, or one catalog version ("kubernetes 1.34", "mysql 8.0")."""

    name: str
    # "node" (EC2 instance type), "db" (RDS instance class), or "kubernetes" / "mysql" (a version,
    # or a version check AWS could not answer).
    kind: str
    status: Status
    mismatches: tuple[Mismatch, ...] = ()
    # Where the catalog chooses it: "dev/models", ... for nodes, "dev", "prod" for the database.
    chosen_for: tuple[str, ...] = ()
    # Why it is UNKNOWN / NOT OFFERED / NOT CHECKED, and notes (offering of types not chosen).
    details: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status in _PASSING

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
    # The Kubernetes and MySQL versions, after the machine types.
    versions: tuple[TypeResult, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the region fits and no type or version is MISMATCH, UNKNOWN or NOT OFFERED
        (NOT CHECKED and NEW pass)."""
        return not self.region_problems and all(r.ok for r in self.checks)

    @property
    def checks(self) -> tuple[TypeResult, ...]:
        """Every line's result: the machine types, then the versions."""
        return self.results + self.versions

    def result(self, name: str) -> TypeResult:
        for item in self.checks:
            if item.name == name:
                return item
        raise KeyError(name)

    def by_status(self, status: Status) -> list[TypeResult]:
        """The machine types with ``status`` (versions: :meth:`versions_by_status`)."""
        return [r for r in self.results if r.status is status]

    def versions_by_status(self, status: Status) -> list[TypeResult]:
        return [r for r in self.versions if r.status is status]

    def lines(self) -> list[str]:
        where = f"{self.region}" + (f" at {self.endpoint}" if self.endpoint else "")
        out = [f"catalog {self.catalog} against AWS in {where} ({', '.join(self.apis)}):"]
        status_width = max(len(s.value) for s in Status)
        name_width = max((len(r.name) for r in self.checks), default=0)
        for item in self.checks:
            text = f"  {item.status.value:<{status_width}}  {item.name:<{name_width}}  {item.describe()}"
            out.append(text.rstrip())
        for problem in self.region_problems:
            out.append(f"  {'REGION':<{status_width}}  {problem}")
        tally = {s: sum(r.status is s for r in self.checks) for s in Status}
        counts = ", ".join(f"{tally[s]} {s.value}" for s in reversed(_SEVERITY) if tally[s])
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
        self.eks = session.client("eks", region_name=region, endpoint_url=endpoint_url, config=config)

    @contextmanager
    def _errors(self, client: Any, operation: str) -> Iterator[None]:
        """Map botocore failures of one API call to a one-line VerifyError."""
        from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError
        from botocore.parsers import ResponseParserError

        api = f"{client.meta.service_model.service_name.upper()} {_api_name(client, operation)}"
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
        except ResponseParserError:
            # Not a BotoCoreError: an answer that is not AWS's (moto's HTML 500 for an API it lacks).
            # Its text quotes the whole body, so it is left out.
            raise _Unreadable(api, self.region) from None

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

    def orderable(self, db_class: str) -> set[str]:
        """The aurora-mysql engine versions (full builds) ``db_class`` is orderable for here.

        No EngineVersion filter: the catalog's versions are majors ("8.0"), which the API does not
        accept there; the caller matches builds by prefix instead.
        """
        pages = self._pages(
            self.rds, "describe_orderable_db_instance_options", Engine=RDS_ENGINE, DBInstanceClass=db_class
        )
        options = [o for page in pages for o in page.get("OrderableDBInstanceOptions", [])]
        return {o["EngineVersion"] for o in options if "EngineVersion" in o}

    def cluster_versions(self) -> dict[str, dict[str, Any]]:
        """EKS's Kubernetes minors by name, including those no longer offered (``includeAll``)."""
        found: dict[str, dict[str, Any]] = {}
        for page in self._pages(self.eks, "describe_cluster_versions", includeAll=True):
            for item in page.get("clusterVersions", []):
                found[item["clusterVersion"]] = item
        return found

    def major_engine_versions(self) -> dict[str, dict[str, Any]]:
        """Aurora MySQL majors ("8.0") with their support lifecycles."""
        found: dict[str, dict[str, Any]] = {}
        for page in self._pages(self.rds, "describe_db_major_engine_versions", Engine=RDS_ENGINE):
            for item in page.get("DBMajorEngineVersions", []):
                found[item["MajorEngineVersion"]] = item
        return found

    def engine_versions(self) -> list[str]:
        """The available aurora-mysql builds a provisioned cluster (the module's) can be created on."""
        filters = [{"Name": "status", "Values": ["available"]}]
        found: list[str] = []
        for page in self._pages(self.rds, "describe_db_engine_versions", Engine=RDS_ENGINE, Filters=filters):
            for item in page.get("DBEngineVersions", []):
                available = item.get("Status", "available") == "available"
                if available and "provisioned" in item.get("SupportedEngineModes", ["provisioned"]):
                    found.append(item["EngineVersion"])
        return found


class _ClientFailure(VerifyError):
    """An AWS API answered with an error (AccessDenied, InvalidParameterValue, ...)."""

    def __init__(self, api: str, region: str, code: str, message: str) -> None:
        self.api = api
        self.code = code
        super().__init__(f"{api} in {region} failed: {code}" + (f": {message}" if message else ""))

    @property
    def reason(self) -> str:
        """Why a check was not made, in a few words (never the error body: an emulator's is a web page)."""
        if self.code in NOT_IMPLEMENTED:
            shown = f"HTTP {self.code}" if self.code.isdigit() else self.code
            return f"{self.api} is not available at this endpoint ({shown})"
        return f"{self.api} answered {self.code}"


class _Unreadable(VerifyError):
    """An answer botocore could not parse: not an AWS response (moto's HTML page for an API it lacks)."""

    def __init__(self, api: str, region: str) -> None:
        self.api = api
        super().__init__(f"{api} in {region}: the answer is not an AWS API response (an emulator without this API?)")

    @property
    def reason(self) -> str:
        return f"{self.api} gave an answer that is not an AWS API response (an emulator without this API?)"


# A version check these leave NOT CHECKED instead of failing the command.
_UNANSWERED = (_ClientFailure, _Unreadable)


def _api_name(client: Any, operation: str) -> str:
    """The API's own name (DescribeDBEngineVersions), from the client's model where it has one."""
    mapping = getattr(client.meta, "method_to_api_mapping", {})
    return mapping.get(operation) or "".join(part.capitalize() for part in operation.split("_"))


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
    today: datetime.date | None = None,
) -> Report:
    """Check ``catalog``'s AWS machine types, chosen types and versions against AWS in ``region``.

    ``session`` is a boto3 Session (default: a new one, so the normal credential
    chain applies); ``endpoint_url`` points EC2, RDS and EKS at an emulator (tests),
    with dummy credentials when none are configured. ``retries`` is botocore's
    total attempts per call (default: AWS_MAX_ATTEMPTS or the profile's, else 3).
    ``today`` is the day AWS's version status is for (default: the UTC date now);
    the catalog's dates are judged on it to compare with EKS's ``versionStatus``.
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
    day = today or datetime.datetime.now(datetime.timezone.utc).date()
    versions = _check_kubernetes(aws, cat, day) + _check_mysql(aws, cat, region)
    region_problems = ()
    if len(zones) < MODULE_ZONES:
        region_problems = (
            f"{region} has {len(zones)} available zone(s) ({', '.join(zones) or 'none'}); the module's network "
            f"takes the first {MODULE_ZONES} (local.azs), so it cannot be applied there",
        )
    apis = (
        "EC2 DescribeInstanceTypes",
        "DescribeInstanceTypeOfferings",
        "RDS DescribeOrderableDBInstanceOptions",
        "DescribeDBMajorEngineVersions",
        "DescribeDBEngineVersions",
        "EKS DescribeClusterVersions",
    )
    return Report(region, label, endpoint_url, tuple(results), region_problems, apis, tuple(versions))


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
        builds = aws.orderable(name)
        missing = [v for v in versions if not any(_is_build_of(b, v) for b in builds)]
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


def _is_build_of(build: str, version: str) -> bool:
    """Whether AWS's engine version ``build`` (8.0.mysql_aurora.3.10.3) is the catalog's ``version`` ("8.0",
    or a full build from an overlay): equal, or starting with it and a dot, as hashicorp/aws compares them."""
    return build == version or build.startswith(version + ".")


# ---- versions -------------------------------------------------------------------


def _day(value: Any) -> datetime.date | None:
    """An API timestamp as its UTC date (botocore gives local-time datetimes; Stubber data may be naive: UTC)."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return (value.astimezone(datetime.timezone.utc) if value.tzinfo else value).date()
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


def _shown(day: datetime.date | None) -> str:
    return "not announced" if day is None else day.isoformat()


def _version_key(text: str) -> tuple[int, ...] | None:
    """A version AWS lists, as numbers; None for a name that is not MAJOR.MINOR[...] digits."""
    try:
        return version_tuple(text)
    except ValueError:
        return None


def _date_mismatches(window: SupportWindow, aws: dict[str, datetime.date | None]) -> list[Mismatch]:
    """The catalog's dates that differ from AWS's (keyed by catalog field). A release date AWS does
    not give is not compared; an end date it does not give means none is announced."""
    found = []
    for key, theirs in aws.items():
        ours = getattr(window, key)
        if key == "released" and theirs is None:
            continue
        if ours != theirs:
            found.append(Mismatch(key, _shown(ours), "none" if theirs is None else theirs.isoformat()))
    return found


def _skipped(name: str, kind: str, reason: str) -> TypeResult:
    return TypeResult(name, kind, Status.NOT_CHECKED, details=(reason,))


def _unlisted(name: str, kind: str, window: SupportWindow, as_of: datetime.date, api: str) -> TypeResult:
    """A catalog version AWS does not list: UNKNOWN, unless the catalog itself has it past all support."""
    if window.status(as_of, True) == "retired":
        # Kept in the catalog so gen-tf can refuse it with its dates; AWS may drop such versions.
        note = f"not listed by {api}; retired in the catalog as of {as_of}, so nothing creates it"
        return TypeResult(name, kind, Status.OK, details=(note,))
    return TypeResult(name, kind, Status.UNKNOWN, details=(f"not listed by {api}",))


def _newer(listed: dict[str, Any], newest: str) -> list[str]:
    """The versions ``listed`` that are newer than the catalog's ``newest``, oldest first."""
    floor = version_tuple(newest)
    found = [(key, v) for v in listed if (key := _version_key(v)) is not None and key > floor]
    return [v for _, v in sorted(found)]


def _window_text(window: SupportWindow) -> str:
    return (
        f"released {window.released}, standard support to {_shown(window.end_of_standard_support)}, "
        f"extended to {_shown(window.end_of_extended_support)}"
    )


def _check_kubernetes(aws: _Aws, cat: CloudCatalog, today: datetime.date) -> list[TypeResult]:
    """Each catalog Kubernetes minor against EKS DescribeClusterVersions, and the minors EKS has beyond it."""
    api = "EKS DescribeClusterVersions"
    versions = cat.kubernetes_versions
    try:
        listed = aws.cluster_versions()
    except _UNANSWERED as exc:
        reason = f"{exc.reason}: Kubernetes support dates and status not checked"
        return [_skipped("kubernetes support", "kubernetes", reason)]
    results = []
    for version in sorted(versions.versions, key=version_tuple):
        window = versions.versions[version]
        name = f"kubernetes {version}"
        item = listed.get(version)
        if item is None:
            results.append(_unlisted(name, "kubernetes", window, cat.as_of, api))
            continue
        mismatches = _date_mismatches(
            window,
            {
                "released": _day(item.get("releaseDate")),
                "end_of_standard_support": _day(item.get("endOfStandardSupportDate")),
                "end_of_extended_support": _day(item.get("endOfExtendedSupportDate")),
            },
        )
        theirs = item.get("versionStatus") or item.get("status")
        details = [] if mismatches else [_window_text(window)]
        # The phase on the day EKS answers for, by the catalog's dates (extended support counts
        # whether or not the module creates there: EKS reports the phase).
        ours = window.status(today, True)
        phase = EKS_PHASES.get(theirs or "")
        if phase is not None and phase != ours:
            mismatches.append(Mismatch("status", f"{ours} on {today} by its dates", str(theirs)))
        elif theirs:
            details.append(f"EKS: {theirs}")
        then = window.status(cat.as_of, True)
        if then != ours:
            moved = f"{then} on the catalog's as_of {cat.as_of}, {ours} on {today}: re-read the dates and move as_of"
            details.append(moved)
        if version == cat.defaults.kubernetes_version:
            details.append("the default")
        status = Status.MISMATCH if mismatches else Status.OK
        results.append(TypeResult(name, "kubernetes", status, tuple(mismatches), details=tuple(details)))
    newest = max(versions.versions, key=version_tuple)
    for version in _newer(listed, newest):
        item = listed[version]
        shown = ", ".join(
            f"{label} {_shown(_day(item.get(key)))}"
            for label, key in (
                ("released", "releaseDate"),
                ("standard support to", "endOfStandardSupportDate"),
                ("extended to", "endOfExtendedSupportDate"),
            )
        )
        theirs = item.get("versionStatus") or item.get("status") or "no status"
        note = (
            f"listed by EKS ({theirs}; {shown}), newer than the catalog's newest {newest}: "
            "add it to kubernetes_versions"
        )
        results.append(TypeResult(f"kubernetes {version}", "kubernetes", Status.NEW, details=(note,)))
    return results


def _lifecycle_end(item: dict[str, Any], name: str) -> datetime.date | None:
    for lifecycle in item.get("SupportedEngineLifecycles", []):
        if lifecycle.get("LifecycleSupportName") == name:
            return _day(lifecycle.get("LifecycleSupportEndDate"))
    return None


def _check_mysql(aws: _Aws, cat: CloudCatalog, region: str) -> list[TypeResult]:
    """Each catalog MySQL version's end dates (RDS DescribeDBMajorEngineVersions) and whether Aurora
    can create it (DescribeDBEngineVersions); each API it cannot ask is one NOT CHECKED line."""
    versions = cat.mysql_versions
    skipped: list[TypeResult] = []
    majors: dict[str, dict[str, Any]] | None = None
    builds: list[str] | None = None
    try:
        majors = aws.major_engine_versions()
    except _UNANSWERED as exc:
        skipped.append(_skipped("mysql support", "mysql", f"{exc.reason}: MySQL support dates not checked"))
    try:
        builds = aws.engine_versions()
    except _UNANSWERED as exc:
        reason = f"{exc.reason}: whether each MySQL version can be created not checked"
        skipped.append(_skipped("mysql engines", "mysql", reason))
    if majors is None and builds is None:
        return skipped
    results = []
    for version in sorted(versions.versions, key=version_tuple):
        window = versions.versions[version]
        name = f"mysql {version}"
        statuses: list[Status] = []
        mismatches: list[Mismatch] = []
        details: list[str] = []
        if majors is not None:
            found = _mysql_support(name, window, majors.get(version), cat.as_of)
            statuses.append(found.status)
            mismatches.extend(found.mismatches)
            details.extend(found.details)
        if builds is not None:
            status, text = _creatable(window, builds, cat.as_of, versions.create_in_extended_support, region)
            statuses.append(status)
            details.append(text)
        if version == cat.defaults.mysql_version:
            details.append("the default")
        results.append(TypeResult(name, "mysql", _worst(statuses), tuple(mismatches), details=tuple(details)))
    if majors is not None:
        results.extend(_new_majors(majors, max(versions.versions, key=version_tuple)))
    return results + skipped


def _mysql_support(name: str, window: MysqlVersion, item: dict[str, Any] | None, as_of: datetime.date) -> TypeResult:
    """One catalog MySQL version's end dates against RDS's lifecycles for its major (``item``)."""
    if item is None:
        return _unlisted(name, "mysql", window, as_of, "RDS DescribeDBMajorEngineVersions")
    aws = {
        "end_of_standard_support": _lifecycle_end(item, RDS_STANDARD),
        "end_of_extended_support": _lifecycle_end(item, RDS_EXTENDED),
    }
    mismatches = _date_mismatches(window, aws)
    if mismatches:
        return TypeResult(name, "mysql", Status.MISMATCH, tuple(mismatches))
    standard, extended = window.end_of_standard_support, window.end_of_extended_support
    ends = f"standard support to {_shown(standard)}, extended to {_shown(extended)}"
    return TypeResult(name, "mysql", Status.OK, details=(ends,))


def _new_majors(majors: dict[str, dict[str, Any]], newest: str) -> list[TypeResult]:
    """The Aurora MySQL majors RDS lists beyond the catalog's newest: NEW, to be added."""
    results = []
    for version in _newer(majors, newest):
        item = majors[version]
        ends = (
            f"standard support to {_shown(_lifecycle_end(item, RDS_STANDARD))}, "
            f"extended to {_shown(_lifecycle_end(item, RDS_EXTENDED))}"
        )
        newer = f"newer than the catalog's newest {newest}: add it to mysql_versions"
        note = f"listed by RDS for {RDS_ENGINE} ({ends}), {newer}"
        results.append(TypeResult(f"mysql {version}", "mysql", Status.NEW, details=(note,)))
    return results


def _creatable(
    window: MysqlVersion, builds: list[str], as_of: datetime.date, create_in_extended: bool, region: str
) -> tuple[Status, str]:
    """Whether Aurora has an available build of the catalog's engine version: NOT OFFERED when gen-tf
    accepts the version for a new cluster and Aurora has none."""
    found = [b for b in builds if _is_build_of(b, window.engine_version)]
    if found:
        return Status.OK, f"creatable: {len(found)} available {RDS_ENGINE} {window.engine_version}.* build(s)"
    text = f"no available {RDS_ENGINE} {window.engine_version}.* build in {region}"
    if window.status(as_of, create_in_extended) in ("standard", "extended"):
        return Status.NOT_OFFERED, f"{text}: a new cluster cannot be created on it"
    return Status.OK, f"{text} (not accepted for a new cluster as of {as_of})"
