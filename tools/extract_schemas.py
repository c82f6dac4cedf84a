#!/usr/bin/env python3
"""Extract Terraform provider schemas from the cdktf prebuilt provider wheels.

Terraform's own registry is unreachable from our machines, so
``terraform providers schema -json`` only works for providers present in a
local mirror.  The cdktf prebuilt provider packages on PyPI, however, embed a
jsii assembly (``<pkg>/_jsii/*.jsii.tgz`` -> ``package/.jsii``, plain JSON)
that was generated from the provider's schema.  This tool downloads those
wheels with ``pip download --no-deps``, reads the assembly and writes one
compact, deterministic JSON file per provider to ``generator/schemas/``::

    {"provider": "hashicorp/aws", "version": "5.100.0",
     "source_package": "cdktf-cdktf-provider-aws==20.1.0",
     "resources": {type: schema}, "data_sources": {type: schema},
     "provider_config": schema}

    schema = {"args":   {name: {"required": bool,
                                ["block_syntax": true, "schema": schema]}},
              "blocks": {name: {"required": bool, "schema": schema,
                                ["max_items": 1]}},
              ["any": true]}

``"any": true`` marks a block whose contents cdktf did not type (it replaces a
few huge nested blocks, e.g. ``aws_wafv2_web_acl ... statement``, with an
untyped value); a checker must not look inside such a block.
``"max_items": 1`` is set on blocks cdktf typed as a single struct (list/set
blocks with max_items = 1, and nesting-mode "single" blocks).
``"block_syntax": true`` marks list/set-of-object arguments, which Terraform
also accepts written as blocks (e.g. aws_security_group ingress); their
``schema`` lists the object's members, all optional in block syntax.

How the jsii assembly maps to the Terraform schema (cdktf provider-generator
conventions):

* classes with base ``cdktf.TerraformResource`` / ``cdktf.TerraformDataSource``
  / ``cdktf.TerraformProvider`` are resources / data sources / the provider;
  their docs summary is ``Represents a {@link <docs-url> <terraform type>}.``
  and the docs URL contains ``/docs/resources/`` or ``/docs/data-sources/``;
* the constructor's ``config`` parameter is a datatype interface whose own
  properties are the configurable (required or optional) arguments;
  computed-only attributes are not there; the meta-arguments (count,
  for_each, depends_on, lifecycle, provider, provisioners, connection) come
  from the external ``cdktf.TerraformMetaArguments`` interface and are
  therefore not in the assembly at all;
* ``optional`` absent on a property means required;
* the exact Terraform name of a property is the ``#<name>`` fragment of the
  ``Docs at Terraform Registry: {@link <url>#<name> <Class>#<name>}`` link in
  its docs (the jsii property name is a camelCased and possibly escaped form);
* nested blocks get the description ``"<name> block"`` (so their docs
  summary is exactly ``"<name> block."``) and, unless untyped, a struct type
  whose properties are the block's arguments/blocks; struct-typed properties
  without that summary are nested *attributes* (plugin-framework nested
  attribute types, e.g. helm_release.set), assigned with ``=``;
* the provider config gets an extra ``alias`` property from cdktf; ``alias``
  is a Terraform meta-argument for provider blocks and is dropped here.

Usage::

    python tools/extract_schemas.py                 # all providers
    python tools/extract_schemas.py aws random      # a subset
    python tools/extract_schemas.py --wheel-dir DIR # reuse downloaded wheels
"""
from __future__ import annotations

import argparse
import glob
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "generator" / "schemas"


@dataclass(frozen=True)
class ProviderPackage:
    short: str  # output file stem and resource-type prefix
    dist: str  # PyPI distribution name
    dist_version: str
    source: str  # Terraform provider source address (namespace/type)
    version: str  # Terraform provider version the package was generated from


# The random package version is the newest on PyPI at the time of writing
# (`pip index versions cdktf-cdktf-provider-random` -> 12.0.1); its
# package.json ("cdktf": {"provider": {"version": ...}}), README header and
# docs links all say hashicorp/random 3.7.2.  Pinned so reruns are identical.
PACKAGES: tuple[ProviderPackage, ...] = (
    ProviderPackage("aws", "cdktf-cdktf-provider-aws", "20.1.0", "hashicorp/aws", "5.100.0"),
    ProviderPackage("google", "cdktf-cdktf-provider-google", "16.12.1", "hashicorp/google", "6.50.0"),
    ProviderPackage("azurerm", "cdktf-cdktf-provider-azurerm", "14.23.1", "hashicorp/azurerm", "4.55.0"),
    ProviderPackage("kubernetes", "cdktf-cdktf-provider-kubernetes", "12.1.1", "hashicorp/kubernetes", "2.38.0"),
    ProviderPackage("helm", "cdktf-cdktf-provider-helm", "12.1.2", "hashicorp/helm", "3.1.1"),
    ProviderPackage("random", "cdktf-cdktf-provider-random", "12.0.1", "hashicorp/random", "3.7.2"),
)

# Manual corrections, applied after extraction, for facts the jsii assembly
# does not carry.  Each entry: (provider short name, path of block names from
# the provider config root, field, value, reason).
PROVIDER_CONFIG_OVERRIDES: tuple[tuple[str, tuple[str, ...], str, object, str], ...] = (
    # azurerm declares `features` as Required + MaxItems 1 (terraform reports
    # "Insufficient features blocks" without it), but the cdktf bindings type
    # it as an optional list, like every provider-config field.
    ("azurerm", ("features",), "required", True, "azurerm provider requires a features block"),
    ("azurerm", ("features",), "max_items", 1, "azurerm features block has MaxItems 1"),
)

BASE_RESOURCE = "cdktf.TerraformResource"
BASE_DATA_SOURCE = "cdktf.TerraformDataSource"
BASE_PROVIDER = "cdktf.TerraformProvider"

# "Represents a {@link <url> <type>}."
_CLASS_LINK = re.compile(r"\{@link (\S+) ([^\s}]+)\}")
# "Docs at Terraform Registry: {@link <url>#<name> <Class>#<name>}"
_PROP_LINK = re.compile(r"\{@link [^\s}#]+#([^\s}]+) [^\s}#]+#([^\s}]+)\}")
# ".../providers/<namespace>/<type>/<version>/docs..."
_DOCS_VERSION = re.compile(r"/providers/([\w.-]+)/([\w.-]+)/([^/\s]+)/docs")
_README_VERSION = re.compile(r"prebuilt bindings for ([\w.-]+/[\w.-]+) provider version ([^\s]+)")


class ExtractionError(RuntimeError):
    pass


# --------------------------------------------------------------------------
# Download / unpack
# --------------------------------------------------------------------------

def wheel_path(pkg: ProviderPackage, wheel_dir: Path) -> Path:
    stem = pkg.dist.replace("-", "_")
    matches = sorted(glob.glob(str(wheel_dir / f"{stem}-{pkg.dist_version}-*.whl")))
    if matches:
        return Path(matches[0])
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "-q", "-d", str(wheel_dir),
        f"{pkg.dist}=={pkg.dist_version}",
    ]
    print(f"  $ {' '.join(cmd[2:])}", file=sys.stderr)
    subprocess.run(cmd, check=True)
    matches = sorted(glob.glob(str(wheel_dir / f"{stem}-{pkg.dist_version}-*.whl")))
    if not matches:
        raise ExtractionError(f"pip download did not produce a wheel for {pkg.dist}=={pkg.dist_version}")
    return Path(matches[0])


def read_assembly(wheel: Path) -> tuple[dict, dict]:
    """Return (jsii assembly, package.json) from a cdktf provider wheel."""
    with zipfile.ZipFile(wheel) as zf:
        tgzs = [n for n in zf.namelist() if "/_jsii/" in n and n.endswith(".jsii.tgz")]
        if len(tgzs) != 1:
            raise ExtractionError(f"{wheel.name}: expected one _jsii/*.jsii.tgz, found {tgzs}")
        blob = zf.read(tgzs[0])
    assembly = package_json = None
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tf:
        for member in tf:
            if member.name == "package/.jsii":
                assembly = json.load(tf.extractfile(member))
            elif member.name == "package/package.json":
                package_json = json.load(tf.extractfile(member))
    if assembly is None:
        raise ExtractionError(f"{wheel.name}: no package/.jsii in {tgzs[0]}")
    return assembly, package_json or {}


# --------------------------------------------------------------------------
# jsii -> schema
# --------------------------------------------------------------------------

def _docs_text(docs: dict) -> str:
    """All text of a jsii docs object.

    Descriptions containing e.g. ``@hourly`` are split by the JSDoc parser
    into ``custom`` (or ``returns``...) tags, so the registry link may live
    there.  A few descriptions contain ``*/`` and lose the link entirely;
    then the name falls back to snake_case of the jsii property name."""
    parts = []
    for key in ("summary", "remarks"):
        if docs.get(key):
            parts.append(docs[key])
    for key in sorted(docs):
        value = docs[key]
        if key in ("summary", "remarks"):
            continue
        if isinstance(value, str):
            parts.append(f"@{key} {value}")
        elif isinstance(value, dict):
            for sub in sorted(value):
                if isinstance(value[sub], str):
                    parts.append(f"@{sub} {value[sub]}")
    return "\n".join(parts)


def _snake(name: str) -> str:
    """Fallback camelCase -> snake_case (codemaker-like)."""
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    return s.lower()


def _local_fqns(ty: dict, assembly_name: str, out: list[str]) -> list[str]:
    if "fqn" in ty and ty["fqn"].startswith(assembly_name + "."):
        out.append(ty["fqn"])
    if "collection" in ty:
        _local_fqns(ty["collection"]["elementtype"], assembly_name, out)
    if "union" in ty:
        for t in ty["union"]["types"]:
            _local_fqns(t, assembly_name, out)
    return out


class Extractor:
    def __init__(self, assembly: dict):
        self.name = assembly["name"]
        self.types: dict = assembly["types"]
        self.stats = {"name_fallbacks": [], "untyped_blocks": [], "cycles": []}

    def _properties(self, fqn: str) -> list[dict]:
        iface = self.types[fqn]
        props = list(iface.get("properties", []))
        for parent in iface.get("interfaces", []) or []:
            if parent in self.types:  # cdktf.* base interfaces are external
                props.extend(self._properties(parent))
        return props

    def _prop_name(self, prop: dict, where: str) -> str:
        text = _docs_text(prop.get("docs", {}))
        links = [m for m in _PROP_LINK.finditer(text) if m.group(1) == m.group(2)]
        if links:
            return links[-1].group(1)
        name = _snake(prop["name"])
        self.stats["name_fallbacks"].append(f"{where}.{prop['name']}->{name}")
        return name

    def struct_schema(self, fqn: str, where: str, stack: tuple[str, ...] = ()) -> dict:
        if fqn in stack:
            # cdktf's loop detection made this struct recursive; Terraform
            # schemas are finite, so cut the recursion and leave it open.
            self.stats["cycles"].append(where)
            return {"any": True, "args": {}, "blocks": {}}
        stack = stack + (fqn,)
        args: dict = {}
        blocks: dict = {}
        for prop in self._properties(fqn):
            name = self._prop_name(prop, where)
            required = not prop.get("optional", False)
            summary = (prop.get("docs", {}).get("summary") or "").strip()
            if summary == f"{name} block.":
                ty = prop["type"]
                local = [f for f in _local_fqns(ty, self.name, [])
                         if self.types.get(f, {}).get("datatype")]
                entry: dict = {"required": required}
                if local:
                    entry["schema"] = self.struct_schema(local[0], f"{where}.{name}", stack)
                else:
                    self.stats["untyped_blocks"].append(f"{where}.{name}")
                    entry["schema"] = {"any": True, "args": {}, "blocks": {}}
                if "fqn" in ty and ty["fqn"] in local:
                    entry["max_items"] = 1
                if name in blocks or name in args:
                    raise ExtractionError(f"duplicate name {where}.{name}")
                blocks[name] = entry
            else:
                if name in blocks or name in args:
                    raise ExtractionError(f"duplicate name {where}.{name}")
                args[name] = {"required": required}
                obj = self._object_list_struct(prop)
                if obj is not None:
                    args[name]["block_syntax"] = True
                    args[name]["schema"] = self.object_schema(obj, f"{where}.{name}", stack)
        return {"args": args, "blocks": blocks}

    def _object_list_struct(self, prop: dict) -> str | None:
        """The struct fqn if ``prop`` looks like a list/set-of-object attribute.

        Terraform accepts block syntax for attributes whose type is a list or
        set of objects ("attributes as blocks", e.g. aws_security_group's
        ingress).  cdktf types those, and plugin-framework list/set nested
        attributes (which do not accept block syntax, e.g. helm_release's
        set), identically as arrays of structs.  They differ in the members:
        object-type members have no descriptions and inherit the optionality
        of the attribute itself, while nested-attribute members carry their
        own.  Ambiguous cases end up allowing block syntax (lenient)."""
        ty = prop["type"]
        arrays = []
        for t in (ty.get("union", {}).get("types") or [ty]):
            coll = t.get("collection")
            if coll and coll["kind"] == "array" and "fqn" in coll["elementtype"]:
                arrays.append(coll["elementtype"]["fqn"])
        if len(arrays) != 1 or not self.types.get(arrays[0], {}).get("datatype"):
            return None
        parent_optional = prop.get("optional", False)
        for member in self._properties(arrays[0]):
            if member.get("optional", False) != parent_optional:
                return None
            summary = (member.get("docs", {}).get("summary") or "")
            if not summary.startswith("Docs at Terraform Registry:"):
                return None
        return arrays[0]

    def object_schema(self, fqn: str, where: str, stack: tuple[str, ...]) -> dict:
        """Schema of an object-typed attribute written with block syntax:
        every member is optional (terraform's blocktoattr fix-up)."""
        if fqn in stack:
            self.stats["cycles"].append(where)
            return {"any": True, "args": {}, "blocks": {}}
        stack = stack + (fqn,)
        args: dict = {}
        for member in self._properties(fqn):
            name = self._prop_name(member, where)
            args[name] = {"required": False}
            obj = self._object_list_struct(member)
            if obj is not None:
                args[name]["block_syntax"] = True
                args[name]["schema"] = self.object_schema(obj, f"{where}.{name}", stack)
        return {"args": args, "blocks": {}}

    def _config_fqn(self, cls: dict) -> str:
        for param in cls.get("initializer", {}).get("parameters", []):
            if param["name"] == "config":
                return param["type"]["fqn"]
        raise ExtractionError(f"{cls['fqn']}: no config parameter")

    def extract(self, pkg: ProviderPackage) -> tuple[dict, dict, dict, set[str]]:
        resources: dict = {}
        data_sources: dict = {}
        provider_config = None
        doc_versions: set[str] = set()
        for fqn in sorted(self.types):
            cls = self.types[fqn]
            base = cls.get("base")
            if cls.get("kind") != "class" or base not in (BASE_RESOURCE, BASE_DATA_SOURCE, BASE_PROVIDER):
                continue
            summary = _docs_text(cls.get("docs", {}))
            m = _CLASS_LINK.search(summary)
            if not m:
                raise ExtractionError(f"{fqn}: no docs link in {summary!r}")
            url, tf_type = m.group(1), m.group(2)
            vm = _DOCS_VERSION.search(url)
            if vm:
                if f"{vm.group(1)}/{vm.group(2)}" != pkg.source:
                    raise ExtractionError(f"{fqn}: docs link {url} is not for {pkg.source}")
                doc_versions.add(vm.group(3))
            config = self._config_fqn(cls)
            if base == BASE_PROVIDER:
                if provider_config is not None:
                    raise ExtractionError("more than one provider class")
                schema = self.struct_schema(config, "provider")
                schema["args"].pop("alias", None)  # meta-argument added by cdktf
                provider_config = schema
                continue
            if base == BASE_RESOURCE:
                if "/docs/resources/" not in url:
                    raise ExtractionError(f"{fqn}: unexpected resource docs link {url}")
                target = resources
            else:
                if "/docs/data-sources/" not in url:
                    raise ExtractionError(f"{fqn}: unexpected data source docs link {url}")
                target = data_sources
            if tf_type in target:
                raise ExtractionError(f"duplicate type {tf_type}")
            target[tf_type] = self.struct_schema(config, tf_type)
        if provider_config is None:
            raise ExtractionError("no provider class found")
        return resources, data_sources, provider_config, doc_versions


# --------------------------------------------------------------------------
# Version verification
# --------------------------------------------------------------------------

def verify_versions(pkg: ProviderPackage, assembly: dict, package_json: dict,
                    doc_versions: set[str]) -> list[str]:
    """Return human-readable evidence; raise on any mismatch."""
    evidence = []
    problems = []
    if assembly.get("version") != pkg.dist_version:
        problems.append(f"assembly version {assembly.get('version')} != {pkg.dist_version}")
    prov = (package_json.get("cdktf") or {}).get("provider") or {}
    if prov:
        name = prov.get("name", "")
        if not (name == pkg.source or name.endswith("/" + pkg.source)):
            problems.append(f"package.json cdktf.provider.name {name!r} is not {pkg.source}")
        if prov.get("version") != pkg.version:
            problems.append(f"package.json cdktf.provider.version {prov.get('version')} != {pkg.version}")
        evidence.append(f"package.json cdktf.provider.version={prov.get('version')}")
    readme = (assembly.get("readme") or {}).get("markdown", "")
    rm = _README_VERSION.search(readme)
    if rm:
        if rm.group(1) != pkg.source or rm.group(2) != pkg.version:
            problems.append(f"README says {rm.group(1)} {rm.group(2)}")
        evidence.append(f"README={rm.group(1)} {rm.group(2)}")
    if doc_versions:
        if doc_versions != {pkg.version}:
            problems.append(f"docs links reference versions {sorted(doc_versions)}")
        evidence.append(f"docs-links={','.join(sorted(doc_versions))}")
    if not evidence:
        problems.append("no provider version recorded in the package")
    if problems:
        raise ExtractionError(f"{pkg.dist}=={pkg.dist_version}: " + "; ".join(problems))
    return evidence


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def dump(doc: dict) -> bytes:
    return (json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True) + "\n").encode()


def _count(schema: dict) -> tuple[int, int]:
    """(#args, #blocks) in a schema tree."""
    a = len(schema.get("args", {}))
    b = 0
    for blk in schema.get("blocks", {}).values():
        sa, sb = _count(blk["schema"])
        a += sa
        b += 1 + sb
    return a, b


def extract_one(pkg: ProviderPackage, wheel_dir: Path, out_dir: Path, verbose: bool) -> dict:
    wheel = wheel_path(pkg, wheel_dir)
    assembly, package_json = read_assembly(wheel)
    ex = Extractor(assembly)
    resources, data_sources, provider_config, doc_versions = ex.extract(pkg)
    del assembly["types"]
    for short, path, field, value, _reason in PROVIDER_CONFIG_OVERRIDES:
        if short != pkg.short:
            continue
        node = {"schema": provider_config}
        for name in path:
            node = node["schema"]["blocks"][name]
        node[field] = value
    evidence = verify_versions(pkg, assembly, package_json, doc_versions)
    doc = {
        "provider": pkg.source,
        "version": pkg.version,
        "source_package": f"{pkg.dist}=={pkg.dist_version}",
        "resources": resources,
        "data_sources": data_sources,
        "provider_config": provider_config,
    }
    data = dump(doc)
    out = out_dir / f"{pkg.short}.json"
    changed = not out.exists() or out.read_bytes() != data
    if changed:
        tmp = out.with_suffix(".json.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, out)
    summary = {
        "file": str(out.relative_to(REPO_ROOT) if out.is_relative_to(REPO_ROOT) else out),
        "bytes": len(data),
        "changed": changed,
        "resources": len(resources),
        "data_sources": len(data_sources),
        "evidence": evidence,
        "name_fallbacks": len(ex.stats["name_fallbacks"]),
        "untyped_blocks": ex.stats["untyped_blocks"],
        "cycles": len(ex.stats["cycles"]),
    }
    if verbose:
        summary["name_fallback_list"] = ex.stats["name_fallbacks"]
        summary["cycle_list"] = ex.stats["cycles"]
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("providers", nargs="*", help="subset of: " + ", ".join(p.short for p in PACKAGES))
    ap.add_argument("--wheel-dir", type=Path, help="directory with (or for) the downloaded wheels; default: a temp dir")
    ap.add_argument("--out-dir", type=Path, default=DEFAULT_OUT)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)

    wanted = [p for p in PACKAGES if not args.providers or p.short in args.providers]
    unknown = set(args.providers) - {p.short for p in PACKAGES}
    if unknown:
        ap.error(f"unknown provider(s): {', '.join(sorted(unknown))}")
    args.out_dir.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="cdktf-wheels-") as tmp:
        wheel_dir = args.wheel_dir or Path(tmp)
        wheel_dir.mkdir(parents=True, exist_ok=True)
        for pkg in wanted:
            print(f"{pkg.short}: {pkg.dist}=={pkg.dist_version} -> {pkg.source} {pkg.version}", file=sys.stderr)
            summary = extract_one(pkg, wheel_dir, args.out_dir, args.verbose)
            print(json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
