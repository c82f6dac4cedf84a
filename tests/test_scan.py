"""Security scan: checkov finds nothing in any generated module, and every suppression is documented.

The scan itself (tools/scan.py) runs checkov from its own virtual environment,
.venv-checkov/, which it creates on first use. Locally the test skips while that
venv is missing (creating it downloads checkov); in CI (CI=true) it always runs
and the script creates the venv.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from conftest import CLOUDS, ENVS, IN_CI, PRODUCTS, REPO

SCAN = REPO / "tools" / "scan.py"
DOCS = REPO / "docs" / "checkov-suppressions.md"
SUMMARY = re.compile(
    r"(?P<modules>\d+) modules scanned, (?P<passed>\d+) passed, (?P<failed>\d+) failed, "
    r"(?P<skipped>\d+) skipped; (?P<missing>\d+) not generated"
)
SKIP = re.compile(r"^\s*#\s*checkov:skip=(?P<id>[A-Z0-9_]+)(?P<rest>.*)$")
# A block's name may be a template expression (one block per catalog entry, e.g. per route).
BLOCK = re.compile(r'^(?P<kind>resource|data) "(?P<type>[a-z0-9_]+)" "(?P<name>[A-Za-z0-9_-]+|\{\{ [a-z0-9_.]+ \}\})" \{')


@pytest.mark.scan
def test_checkov_finds_nothing() -> None:
    if not (REPO / ".venv-checkov").exists() and not IN_CI:
        pytest.skip("checkov's venv .venv-checkov/ is missing: run 'python tools/scan.py' once to create it (CI=true always runs this)")
    proc = subprocess.run([sys.executable, str(SCAN)], cwd=REPO, capture_output=True, text=True, timeout=1200)
    report = proc.stdout[-30000:] + proc.stderr[-5000:]
    match = SUMMARY.search(proc.stdout)
    assert match, report
    counts = {k: int(v) for k, v in match.groupdict().items()}
    assert counts["missing"] == 0, report
    assert counts["modules"] == len(CLOUDS) * len(ENVS) * len(PRODUCTS), report
    assert counts["failed"] == 0, report
    assert counts["passed"] > 0, report
    assert proc.returncode == 0, report


def test_suppression_table_is_fresh() -> None:
    """docs/checkov-suppressions.md lists exactly the suppressions the modules carry."""
    scan = _scan_module()
    combos = [scan.Combo(c, e, p) for c in CLOUDS for e in ENVS for p in PRODUCTS]
    texts, errors = scan.generate_all(combos)
    assert not errors, {c.name: e for c, e in errors.items()}
    rows = scan.suppressions(texts)
    assert any(row[0] == "aws" for row in rows), "expected the AWS module's suppressions"
    want = scan.docs_with_table(DOCS.read_text(), scan.suppression_table(rows))
    assert DOCS.read_text() == want, "run 'python tools/scan.py --write-docs' and commit docs/checkov-suppressions.md"


def test_suppressions_have_reasons() -> None:
    for path in sorted((REPO / "templates").glob("*/*.tf.j2")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            skip = SKIP.match(line)
            if skip:
                reason = skip["rest"][2:].strip()
                assert skip["rest"].startswith(": ") and len(reason) >= 30, (
                    f"{path.relative_to(REPO)}:{number}: write '# checkov:skip=ID: <why the check does not fit>'"
                )


def test_suppressions_open_their_block() -> None:
    """A skip comment is the first thing in its block (after Jinja tags), where readers and checkov see it."""
    for path in sorted((REPO / "templates").glob("*/*.tf.j2")):
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines, 1):
            if not SKIP.match(line):
                continue
            previous = number - 2
            while previous >= 0 and (SKIP.match(lines[previous]) or lines[previous].lstrip().startswith("{%")):
                previous -= 1
            assert previous >= 0 and BLOCK.match(lines[previous]), f"{path.relative_to(REPO)}:{number}: put checkov:skip first in the block"


def _scan_module() -> ModuleType:
    if "gen_tf_scan" in sys.modules:
        return sys.modules["gen_tf_scan"]
    spec = importlib.util.spec_from_file_location("gen_tf_scan", SCAN)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_tf_scan"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _finding(check_id: str, path: str, resource: str, suppress: str | None = None) -> dict[str, object]:
    item: dict[str, object] = {
        "check_id": check_id,
        "check_name": "a check",
        "file_path": path,
        "resource": resource,
        "file_line_range": [3, 9],
    }
    if suppress:
        item["check_result"] = {"result": "SKIPPED", "suppress_comment": suppress}
    return item


def test_findings_are_attributed_to_their_module() -> None:
    """The scan's parser: one checkov report over many module dirs, split per module by file path."""
    scan = _scan_module()
    combos = [scan.Combo("aws", "dev", "models"), scan.Combo("aws", "prod", "both")]
    results = {c.name: scan.ModuleResult(c) for c in combos}
    raw = {
        "check_type": "terraform",
        "results": {
            "passed_checks": [_finding("CKV_AWS_1", "/aws-dev-models/main.tf", "a.b")] * 3
            + [_finding("CKV_AWS_1", "/aws-prod-both/main.tf", "a.b")],
            "failed_checks": [_finding("CKV_AWS_91", "/aws-prod-both/main.tf", "aws_lb.wandb")],
            "skipped_checks": [_finding("CKV_AWS_18", "/aws-dev-models/main.tf", "aws_s3_bucket.logs", "log bucket")],
            "parsing_errors": [],
        },
        "summary": {},
    }
    scan.attribute([raw], results)
    dev, prod = results["aws-dev-models"], results["aws-prod-both"]
    assert (dev.passed, len(dev.failed), len(dev.skipped)) == (3, 0, 1)
    assert dev.skipped[0].reason == "log bucket"
    assert (prod.passed, len(prod.failed), len(prod.skipped)) == (1, 1, 0)
    assert (prod.failed[0].check_id, prod.failed[0].resource, prod.failed[0].lines) == ("CKV_AWS_91", "aws_lb.wandb", (3, 9))
    # A bare summary (checkov found no resources) is no report at all.
    assert scan._reports({"passed": 0, "failed": 0}) == []


def test_a_module_that_does_not_generate_fails_the_scan(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scan = _scan_module()
    monkeypatch.setattr(scan, "ensure_venv", lambda: Path("/nonexistent/checkov"))
    monkeypatch.setattr(scan, "generate", lambda combo: (None, "template aws/dns.tf.j2 is missing"))
    monkeypatch.setattr(scan, "run_checkov", lambda *a: pytest.fail("checkov must not run without modules"))
    code = scan.main(["--cloud", "aws", "--keep", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 1
    assert "not generated: template aws/dns.tf.j2 is missing" in out
    assert "0 modules scanned" in out and "6 not generated" in out


def test_failed_checks_fail_the_scan(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    scan = _scan_module()
    monkeypatch.setattr(scan, "ensure_venv", lambda: Path("/nonexistent/checkov"))
    monkeypatch.setattr(scan, "generate", lambda combo: ('resource "x" "y" {}\n', ""))

    def fake_checkov(_checkov: Path, root: Path) -> object:
        dirs = sorted(p.name for p in root.iterdir())
        assert len(dirs) == 6 and all((root / d / "main.tf").exists() for d in dirs)
        return {"results": {"passed_checks": [], "failed_checks": [_finding("CKV_X_1", f"/{dirs[0]}/main.tf", "x.y")], "skipped_checks": []}}

    monkeypatch.setattr(scan, "run_checkov", fake_checkov)
    assert scan.main(["--cloud", "aws"]) == 1
    out = capsys.readouterr().out
    assert "CKV_X_1" in out and "1 failed" in out


def test_keep_refuses_a_directory_with_other_content(tmp_path: Path) -> None:
    scan = _scan_module()
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="notes.txt"):
        scan.prepare_keep_dir(tmp_path, [])
    assert (tmp_path / "notes.txt").exists()
