"""Security scan: checkov over every module gen-tf generates; exit 1 on any failed check.

    python tools/scan.py                    # all clouds x dev/prod x models/weave/both
    python tools/scan.py --cloud aws        # one cloud (repeatable)
    python tools/scan.py --keep /tmp/scan   # keep the generated module dirs

checkov pins its own fork of the ``hcl2`` package, which breaks python-hcl2 (the
tests' parser) when both share an environment, so checkov runs from its own
virtual environment, ``.venv-checkov/`` in the repository root. This script
creates it on first use (``python -m venv`` + ``pip install checkov==PIN``) and
re-creates it when the installed checkov is not the pinned version.

Each module is generated in-process through the real CLI (``gen-tf --cloud C
--env E --products P --domain wandb.example.com --dns-zone example.com``) into
``DIR/<cloud>-<env>-<products>/main.tf``; one checkov run covers all of them
(checkov starts in ~3 s; one run per module would pay that 18 times). Findings
are attributed to modules by file path. Suppressions are inline
``# checkov:skip=ID: reason`` comments in the templates (see
docs/checkov-suppressions.md); they are counted as skipped.

Exit codes: 0 clean, 1 a check failed or a module could not be generated,
2 checkov could not be installed or run.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv-checkov"
CHECKOV_VERSION = "3.3.30"
CLOUDS = ("aws", "gcp", "azure")
ENVS = ("dev", "prod")
PRODUCTS = ("models", "weave", "both")
DOMAIN_ARGS = ("--domain", "wandb.example.com", "--dns-zone", "example.com")

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_TOOL = 2


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---- checkov's virtual environment --------------------------------------------


def _bin(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / name


def installed_version(venv: Path = VENV) -> str | None:
    """The checkov version in ``venv`` (from its package metadata; no import of checkov)."""
    if not _bin(venv, "python").exists() or not _bin(venv, "checkov").exists():
        return None
    probe = subprocess.run(
        [str(_bin(venv, "python")), "-c", "import importlib.metadata as m; print(m.version('checkov'))"],
        capture_output=True,
        text=True,
    )
    return probe.stdout.strip() if probe.returncode == 0 else None


def ensure_venv(venv: Path = VENV, version: str = CHECKOV_VERSION) -> Path:
    """checkov's executable in ``venv``, creating the venv or installing the pin when needed."""
    have = installed_version(venv)
    if have == version:
        return _bin(venv, "checkov")
    if have is None:
        log(f"scan: setting up {venv.name}/ with checkov=={version} (one time, under a minute)")
    else:
        log(f"scan: {venv.name}/ has checkov {have}; installing the pinned {version}")
    if not _bin(venv, "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(_bin(venv, "python")), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"checkov=={version}"],
        check=True,
    )
    if installed_version(venv) != version:
        raise RuntimeError(f"checkov {version} is not importable from {venv} after installing it")
    return _bin(venv, "checkov")


# ---- generation -----------------------------------------------------------------


@dataclass(frozen=True)
class Combo:
    cloud: str
    env: str
    products: str

    @property
    def name(self) -> str:
        return f"{self.cloud}-{self.env}-{self.products}"

    def argv(self) -> list[str]:
        return ["--cloud", self.cloud, "--env", self.env, "--products", self.products, *DOMAIN_ARGS]


def generate(combo: Combo) -> tuple[str | None, str]:
    """(module text, "") from the real CLI in-process, or (None, its error)."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from generator.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(combo.argv())
        except Exception as exc:  # a crash in gen-tf is a generation failure to report, not a traceback
            code = -1
            err.write(f"{type(exc).__name__}: {exc}")
    if code != 0 or not out.getvalue().strip():
        return None, " ".join(err.getvalue().split()) or f"gen-tf exited {code} with no output"
    return out.getvalue(), ""


# ---- results ----------------------------------------------------------------------


@dataclass
class Finding:
    check_id: str
    resource: str
    lines: tuple[int, int]
    name: str
    reason: str = ""


@dataclass
class ModuleResult:
    combo: Combo
    error: str = ""
    passed: int = 0
    failed: list[Finding] = field(default_factory=list)
    skipped: list[Finding] = field(default_factory=list)


def _reports(raw: Any) -> list[dict[str, Any]]:
    """checkov's JSON is one report (dict) per framework, a list of them, or a bare summary."""
    reports = raw if isinstance(raw, list) else [raw]
    return [r for r in reports if isinstance(r, dict) and "results" in r]


def _module_of(file_path: str) -> str:
    """``/aws-dev-both/main.tf`` -> ``aws-dev-both``."""
    parts = [p for p in Path(file_path).parts if p not in ("/", "\\")]
    return parts[-2] if len(parts) >= 2 else ""


def attribute(raw: Any, results: dict[str, ModuleResult]) -> None:
    """Distribute checkov's findings over the modules by the path of the file they are in."""
    for report in _reports(raw):
        body = report["results"]
        for kind in ("passed_checks", "failed_checks", "skipped_checks"):
            for item in body.get(kind, []):
                module = results.get(_module_of(item.get("file_path", "")))
                if module is None:
                    continue
                if kind == "passed_checks":
                    module.passed += 1
                    continue
                line_range = item.get("file_line_range") or [0, 0]
                finding = Finding(
                    check_id=item["check_id"],
                    resource=item.get("resource", "?"),
                    lines=(int(line_range[0]), int(line_range[-1])),
                    name=item.get("check_name", ""),
                    reason=(item.get("check_result") or {}).get("suppress_comment", "") or "",
                )
                (module.failed if kind == "failed_checks" else module.skipped).append(finding)


def run_checkov(checkov: Path, root: Path) -> Any:
    """One checkov run over every module directory under ``root``; its parsed JSON."""
    env = dict(os.environ)
    # No telemetry or guideline download (the machines reach package registries only).
    env.setdefault("BC_SKIP_MAPPING", "TRUE")
    env.setdefault("CHECKOV_RUN_SCA_PACKAGE_SCAN_V2", "false")
    env["LOG_LEVEL"] = env.get("CHECKOV_LOG_LEVEL", "ERROR")
    cmd = [
        str(checkov),
        "-d",
        str(root),
        "--framework",
        "terraform",
        "--compact",
        "--skip-download",
        "-o",
        "json",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=root)
    # checkov exits 1 when a check fails; anything else non-zero, or no JSON, is a tool failure.
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"checkov exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise RuntimeError(f"checkov printed no JSON ({exc}); stderr: {proc.stderr.strip()[-2000:]}") from None


def parsing_errors(raw: Any) -> list[str]:
    errors: list[str] = []
    for report in _reports(raw):
        errors.extend(report["results"].get("parsing_errors", []))
    return errors


def prepare_keep_dir(path: Path, combos: list[Combo]) -> None:
    """Make ``path`` ready for the modules: clear earlier scan output, refuse to touch anything else."""
    path.mkdir(parents=True, exist_ok=True)
    ours = {f"{c}-{e}-{p}" for c in CLOUDS for e in ENVS for p in PRODUCTS}
    foreign = sorted(child.name for child in path.iterdir() if child.name not in ours or not child.is_dir())
    if foreign:
        raise ValueError(f"--keep {path}: holds more than scan output ({', '.join(foreign[:5])}); give a new or empty directory")
    for child in path.iterdir():
        shutil.rmtree(child)


# ---- the suppression table (docs/checkov-suppressions.md) ------------------------

DOCS = REPO / "docs" / "checkov-suppressions.md"
TABLE_BEGIN = "<!-- suppressions:begin (tools/scan.py --write-docs) -->"
TABLE_END = "<!-- suppressions:end -->"
_BLOCK = re.compile(r'^(resource|data) "([A-Za-z0-9_]+)" "([A-Za-z0-9_-]+)" \{')
_SKIP = re.compile(r"^\s*#\s*checkov:skip=([A-Z0-9_]+)\s*:?\s*(.*)$")


def suppressions(modules: dict[Combo, str]) -> list[tuple[str, str, str, str, str]]:
    """(cloud, check, address, modules, reason) for every checkov:skip in the generated modules.

    Read from the generated text, not the templates, so a suppression that a
    template emits only for some tiers is listed with exactly those modules.
    """
    where: dict[tuple[str, str, str], list[Combo]] = {}
    reasons: dict[tuple[str, str, str], str] = {}
    for combo, text in modules.items():
        address = ""
        for line in text.splitlines():
            block = _BLOCK.match(line)
            if block:
                address = ("data." if block[1] == "data" else "") + f"{block[2]}.{block[3]}"
                continue
            skip = _SKIP.match(line)
            if skip and address:
                key = (combo.cloud, skip[1], address)
                where.setdefault(key, []).append(combo)
                reasons.setdefault(key, skip[2].strip())
    rows = []
    # In the order the modules have them, so "Same as above" in a reason still points at its neighbour.
    for key in sorted(where, key=lambda k: CLOUDS.index(k[0])):
        cloud = key[0]
        combos = where[key]
        every = [c for c in modules if c.cloud == cloud]
        if len(combos) == len(every):
            scope = "all"
        else:
            envs = sorted({c.env for c in combos}, key=ENVS.index)
            full = [e for e in envs if all(Combo(cloud, e, p) in combos for p in PRODUCTS)]
            scope = ", ".join(full) if full == envs else ", ".join(sorted(c.name for c in combos))
        rows.append((cloud, key[1], key[2], scope, reasons[key]))
    return rows


def suppression_table(rows: list[tuple[str, str, str, str, str]]) -> str:
    lines = [TABLE_BEGIN, "", "| cloud | check | resource | modules | reason |", "| --- | --- | --- | --- | --- |"]
    for cloud, check, address, scope, reason in rows:
        cells = [cloud, check, f"`{address}`", scope, reason.replace("|", "\\|")]
        lines.append("| " + " | ".join(cells) + " |")
    if not rows:
        lines.append("| - | - | - | - | no suppressions |")
    lines += ["", TABLE_END]
    return "\n".join(lines)


def docs_with_table(docs: str, table: str) -> str:
    begin, end = docs.find(TABLE_BEGIN), docs.find(TABLE_END)
    if begin < 0 or end < begin:
        raise ValueError(f"{DOCS.name} has no {TABLE_BEGIN!r} ... {TABLE_END!r} section")
    return docs[:begin] + table + docs[end + len(TABLE_END) :]


# ---- report -------------------------------------------------------------------------


def print_report(results: list[ModuleResult], show_skipped: bool) -> None:
    width = max([len(r.combo.name) for r in results] + [6])
    print(f"{'module':<{width}}  {'passed':>6}  {'failed':>6}  {'skipped':>7}")
    for r in results:
        if r.error:
            print(f"{r.combo.name:<{width}}  {'-':>6}  {'-':>6}  {'-':>7}  not generated: {r.error}")
            continue
        print(f"{r.combo.name:<{width}}  {r.passed:>6}  {len(r.failed):>6}  {len(r.skipped):>7}")
    failed = [(r, f) for r in results for f in r.failed]
    if failed:
        print(f"\nFailed checks ({len(failed)}):")
        for r, f in failed:
            print(f"  {r.combo.name}/main.tf:{f.lines[0]}-{f.lines[1]}  {f.check_id}  {f.resource}  {f.name}")
    if show_skipped:
        skipped = [(r, f) for r in results for f in r.skipped]
        if skipped:
            print(f"\nSkipped checks ({len(skipped)}):")
            for r, f in skipped:
                print(f"  {r.combo.name}  {f.check_id}  {f.resource}  {f.reason}")


def generate_all(combos: list[Combo]) -> tuple[dict[Combo, str], dict[Combo, str]]:
    """(texts, errors) of every combination."""
    texts: dict[Combo, str] = {}
    errors: dict[Combo, str] = {}
    for combo in combos:
        text, error = generate(combo)
        if text is None:
            errors[combo] = error
        else:
            texts[combo] = text
    return texts, errors


def write_docs() -> int:
    combos = [Combo(c, e, p) for c in CLOUDS for e in ENVS for p in PRODUCTS]
    texts, errors = generate_all(combos)
    for combo, error in errors.items():
        log(f"scan: {combo.name} not generated: {error}")
    if errors:
        return EXIT_FINDINGS
    DOCS.write_text(docs_with_table(DOCS.read_text(encoding="utf-8"), suppression_table(suppressions(texts))), encoding="utf-8")
    log(f"scan: wrote the suppression table of {DOCS.relative_to(REPO)}")
    return EXIT_CLEAN


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cloud", action="append", choices=CLOUDS, help="scan only this cloud (repeatable)")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="write the generated modules here and keep them")
    parser.add_argument("--show-skipped", action="store_true", help="list every suppressed (skipped) check")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write checkov's raw JSON here")
    parser.add_argument(
        "--write-docs",
        action="store_true",
        help=f"rewrite the suppression table in {DOCS.relative_to(REPO)} from the generated modules, then exit (no checkov)",
    )
    args = parser.parse_args(argv)

    if args.write_docs:
        return write_docs()

    started = time.monotonic()
    try:
        checkov = ensure_venv()
    except (OSError, subprocess.CalledProcessError, RuntimeError) as exc:
        log(f"scan: cannot set up checkov {CHECKOV_VERSION} in {VENV}: {exc}")
        return EXIT_TOOL
    ready = time.monotonic()

    clouds = tuple(dict.fromkeys(args.cloud)) if args.cloud else CLOUDS
    combos = [Combo(c, e, p) for c in clouds for e in ENVS for p in PRODUCTS]

    if args.keep:
        try:
            prepare_keep_dir(args.keep, combos)
        except ValueError as exc:
            log(f"scan: {exc}")
            return EXIT_TOOL
        root_ctx: contextlib.AbstractContextManager[str] = contextlib.nullcontext(str(args.keep))
    else:
        root_ctx = tempfile.TemporaryDirectory(prefix="gen-tf-scan-")

    with root_ctx as root_name:
        root = Path(root_name)
        results = {combo.name: ModuleResult(combo) for combo in combos}
        texts, errors = generate_all(combos)
        for combo, error in errors.items():
            results[combo.name].error = error
        for combo, text in texts.items():
            (root / combo.name).mkdir()
            (root / combo.name / "main.tf").write_text(text, encoding="utf-8")
        generated = time.monotonic()

        if any(not r.error for r in results.values()):
            try:
                raw = run_checkov(checkov, root)
            except (OSError, RuntimeError) as exc:
                log(f"scan: {exc}")
                return EXIT_TOOL
            if args.json:
                args.json.write_text(json.dumps(raw, indent=1), encoding="utf-8")
            for problem in parsing_errors(raw):
                name = _module_of(problem)
                if name in results:
                    results[name].error = f"checkov could not parse {problem}"
            attribute(raw, results)
        scanned = time.monotonic()

    ordered = [results[c.name] for c in combos]
    print_report(ordered, args.show_skipped)
    n_failed = sum(len(r.failed) for r in ordered)
    n_errors = sum(1 for r in ordered if r.error)
    print(
        f"\ncheckov {CHECKOV_VERSION}: {len(ordered) - n_errors} modules scanned, "
        f"{sum(r.passed for r in ordered)} passed, {n_failed} failed, "
        f"{sum(len(r.skipped) for r in ordered)} skipped; {n_errors} not generated. "
        f"Time: checkov venv {ready - started:.1f} s, generate {generated - ready:.1f} s, checkov {scanned - generated:.1f} s, "
        f"total {time.monotonic() - started:.1f} s."
    )
    return EXIT_FINDINGS if n_failed or n_errors else EXIT_CLEAN


if __name__ == "__main__":
    sys.exit(main())
