"""The user's request: every option gen-tf takes, validated before anything is rendered.

Rules that need no catalog live on the model; rules that depend on the cloud's
catalog (regions, supported MySQL versions, minimum versions) are checked in
:mod:`generator.plan`. Each failure names the command-line option.
"""

from __future__ import annotations

import re
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from .errors import OptionError

NAME_RE = re.compile(r"^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){2,19}$")
NAME_RULE = (
    "3-20 characters of a-z, 0-9 and single hyphens, starting with a letter and ending with a "
    "letter or digit (it prefixes buckets, IAM roles, GCP service accounts and Azure storage accounts)"
)
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
FQDN_RE = re.compile(rf"^(?:{_LABEL}\.)+[a-z][a-z0-9-]*[a-z0-9]$")
FQDN_RULE = "a lowercase fully qualified domain name such as wandb.example.com (a-z, 0-9, hyphens; 2+ labels; 253 characters at most)"
K8S_RE = re.compile(r"^1\.[0-9]{1,2}$")
MYSQL_RE = re.compile(r"^[0-9]+\.[0-9]+$")
RETENTION_RANGE = (7, 35)  # R-DB-2: at least a week; 35 is the managed services' common maximum
TAG_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.:/-]{0,62}$")
TAG_VALUE_RE = re.compile(r"^[A-Za-z0-9_.:/ +@=-]{0,63}$")
AZURE_TAG_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]{0,62}$")
GCP_LABEL_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
GCP_VALUE_RE = re.compile(r"^[a-z0-9_-]{0,63}$")

# Model field -> the option that sets it (for error messages).
OPTION_OF = {
    "cloud": "--cloud",
    "env": "--env",
    "products": "--products",
    "name": "--name",
    "region": "--region",
    "domain": "--domain",
    "dns_zone": "--dns-zone",
    "k8s_version": "--k8s-version",
    "mysql_version": "--mysql-version",
    "standby": "--standby",
    "backup_retention_days": "--backup-retention-days",
    "tags": "--tag",
    "node_family": "--node-family",
    "layer": "--layer",
    "vpc_id": "--vpc-id",
    "private_subnet_ids": "--private-subnet-id",
    "public_subnet_ids": "--public-subnet-id",
    "private_endpoint": "--private-endpoint",
    "allowed_cidrs": "--allowed-cidr",
    "air_gapped": "--air-gapped",
    "image_registry": "--image-registry",
    "backend": "--backend",
}

# The remote-state backend each cloud's module may declare (partial configuration).
BACKENDS = {"aws": "s3", "gcp": "gcs", "azure": "azurerm"}
CIDR_RE = re.compile(r"^(?:(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])/(?:3[0-2]|[12]?[0-9])$")
REGISTRY_RE = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(/[a-z0-9._-]+)*$")


class Options(BaseModel):
    """What the user asked for; ``None`` means "the catalog's or the tier's default"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cloud: Literal["aws", "gcp", "azure"]
    env: Literal["dev", "test", "prod"]
    products: Literal["models", "weave", "both"]
    name: str = "wandb"
    region: str | None = None
    domain: str | None = None
    dns_zone: str | None = None
    k8s_version: str | None = None
    mysql_version: str | None = None
    standby: bool | None = None
    backup_retention_days: int | None = None
    tags: dict[str, str] = {}
    node_family: str | None = None
    # Which root module: the cloud infrastructure, or the W&B application on it.
    layer: Literal["infra", "app"] = "infra"
    # Bring-your-own network: an existing VPC/VNet and its subnets instead of new ones.
    vpc_id: str | None = None
    private_subnet_ids: list[str] = []
    public_subnet_ids: list[str] = []
    # A Kubernetes API endpoint reachable only from inside the network.
    private_endpoint: bool = False
    # Who may reach W&B through the load balancer (R-NET-3: every training system).
    allowed_cidrs: list[str] = []
    # R-NET-2: no internet egress; images and charts from a private mirror.
    air_gapped: bool = False
    image_registry: str | None = None
    backend: Literal["s3", "gcs", "azurerm"] | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError(f"{value!r} is not allowed; use {NAME_RULE}")
        return value

    @field_validator("domain", "dns_zone")
    @classmethod
    def _fqdn(cls, value: str | None) -> str | None:
        if value is None:
            return value
        value = value.rstrip(".")
        if len(value) > 253 or not FQDN_RE.match(value):
            raise ValueError(f"{value!r} is not allowed; use {FQDN_RULE}")
        return value

    @field_validator("k8s_version")
    @classmethod
    def _k8s(cls, value: str | None) -> str | None:
        if value is not None and not K8S_RE.match(value):
            raise ValueError(f"{value!r} is not a Kubernetes version; use MAJOR.MINOR, 1.29 or newer (R-K8S-4)")
        return value

    @field_validator("mysql_version")
    @classmethod
    def _mysql(cls, value: str | None) -> str | None:
        if value is not None and not MYSQL_RE.match(value):
            raise ValueError(f"{value!r} is not a MySQL version; use MAJOR.MINOR, 8.0 or newer (R-DB-1)")
        return value

    @field_validator("backup_retention_days")
    @classmethod
    def _retention(cls, value: int | None) -> int | None:
        low, high = RETENTION_RANGE
        if value is not None and not low <= value <= high:
            raise ValueError(f"{value} days is not allowed; use {low} to {high} days (R-DB-2: daily backups kept at least 7 days)")
        return value

    @model_validator(mode="after")
    def _cross(self) -> Options:
        if self.domain and self.dns_zone and not (
            self.domain == self.dns_zone or self.domain.endswith("." + self.dns_zone)
        ):
            raise OptionError("--domain", f"{self.domain} is not inside the DNS zone {self.dns_zone}; use a name under it")
        if self.dns_zone and not self.domain:
            raise OptionError("--domain", "is required with --dns-zone (the FQDN the A record is created for, R-DNS-1)")
        if (self.private_subnet_ids or self.public_subnet_ids) and not self.vpc_id:
            raise OptionError("--vpc-id", "is required with --private-subnet-id/--public-subnet-id (the network they belong to)")
        if self.vpc_id and not self.private_subnet_ids:
            raise OptionError("--private-subnet-id", "is required with --vpc-id (the subnets for nodes and the database)")
        if self.cloud == "aws" and self.vpc_id and not self.air_gapped and len(self.public_subnet_ids) < 2:
            raise OptionError("--public-subnet-id", "give at least 2 public subnets in different zones for the load balancer (with --vpc-id on aws)")
        if self.cloud == "azure" and self.vpc_id and len(self.private_subnet_ids) != 3:
            raise OptionError(
                "--private-subnet-id",
                "give 3 on azure with --vpc-id, in this order: AKS nodes, MySQL delegated subnet, Application Gateway",
            )
        if self.cloud != "aws" and self.public_subnet_ids:
            raise OptionError("--public-subnet-id", f"is only used on aws; {self.cloud} load balancers need no subnet")
        if self.cloud == "gcp" and len(self.allowed_cidrs) > 10:
            raise OptionError("--allowed-cidr", "Cloud Armor takes at most 10 ranges per rule on gcp; give 1 to 10")
        for cidr in self.allowed_cidrs:
            if not CIDR_RE.match(cidr):
                raise OptionError("--allowed-cidr", f"{cidr!r} is not an IPv4 CIDR such as 203.0.113.0/24")
        if self.image_registry is not None and not REGISTRY_RE.match(self.image_registry):
            raise OptionError("--image-registry", f"{self.image_registry!r} is not a registry host[:port][/path], e.g. registry.corp.example/wandb")
        if self.air_gapped and not self.image_registry:
            raise OptionError("--image-registry", "is required with --air-gapped (R-NET-2: images and charts come from a private mirror)")
        if self.backend and self.backend != BACKENDS[self.cloud]:
            raise OptionError("--backend", f"{self.backend} does not fit {self.cloud}; allowed: {BACKENDS[self.cloud]}")
        key_re, value_re, rule = {
            "gcp": (GCP_LABEL_RE, GCP_VALUE_RE, "lowercase a-z, 0-9, _ and - (GCP label rules), key starting with a letter"),
            "azure": (AZURE_TAG_KEY_RE, TAG_VALUE_RE, "a key of letters, digits and _.:- starting with a letter (Azure forbids / < > % & \\ ?); a value of up to 63 characters"),
        }.get(self.cloud, (TAG_KEY_RE, TAG_VALUE_RE, "a key of letters, digits and _.:/- starting with a letter; a value of up to 63 such characters"))
        for key, value in self.tags.items():
            if not key_re.match(key) or not value_re.match(value) or key.lower().startswith(("aws:", "azure", "microsoft", "goog")):
                raise OptionError("--tag", f"{key}={value} is not allowed; use {rule}")
        return self


def parse_options(values: dict[str, Any]) -> Options:
    """Validate ``values`` into :class:`Options`, turning the first problem into an :class:`OptionError`."""
    try:
        return Options.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "options"
        option = OPTION_OF.get(field, field)
        message = first["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        elif first["type"] == "literal_error":
            message = f"{first['input']!r} is not allowed; " + message.replace("Input should be", "use")
        elif first["type"] == "extra_forbidden":
            message = "is not a known option"
        elif first["type"] == "missing":
            allowed = get_args(Options.model_fields[field].annotation)
            message = "is required" + (f"; allowed: {', '.join(allowed)}" if allowed else "")
        elif first["type"] in ("string_type", "int_type", "int_parsing", "bool_type", "bool_parsing", "dict_type"):
            message = f"{first['input']!r} is not allowed: {message[0].lower()}{message[1:]} (quote version numbers, e.g. \"1.30\")"
        raise OptionError(option, message) from None
