"""``gen-tf versions``: every catalog version with its dates, status as of the catalog's date, accepted, default."""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path
from typing import Any

import freezegun
import pytest

from conftest import CLOUDS, run_cli
from generator import catalog as catalog_module
from generator.catalog import load_catalog, version_tuple
from generator.errors import OptionError
from generator.versions import cloud_versions, render_versions, version_table

KINDS = {"kubernetes": ("kubernetes_versions", "kubernetes_version"), "mysql": ("mysql_versions", "mysql_version")}


def _rows(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    code, out, err = run_cli(["versions", "--format", "json", *args], capsys)
    assert (code, err) == (0, "")
    return json.loads(out)


def _phase(window: Any, on: datetime.date, create_in_extended: bool) -> str:
    """The status by the rule issue 11 states, written out here rather than taken from the code under test."""
    if on < window.released:
        return "unreleased"
    std, ext = window.end_of_standard_support, window.end_of_extended_support
    if std is None or on < std:
        return "standard"
    if create_in_extended and ext is not None and on < ext:
        return "extended"
    return "retired"


def test_json_lists_every_catalog_version_judged_as_of_the_catalog_date(capsys: pytest.CaptureFixture[str]) -> None:
    rows = _rows(capsys)
    for cloud in CLOUDS:
        cat = load_catalog(cloud).cloud
        for kind, (attribute, default_key) in KINDS.items():
            versions = getattr(cat, attribute)
            mine = [r for r in rows if r["cloud"] == cloud and r["kind"] == kind]
            # Every version, oldest first, once.
            assert [r["version"] for r in mine] == sorted(versions.versions, key=version_tuple)
            for row in mine:
                window = versions.versions[row["version"]]
                status = _phase(window, cat.as_of, versions.create_in_extended_support)
                assert row["status"] == status, row
                assert row["accepted"] is (status in ("standard", "extended")), row
                assert row["default"] is (row["version"] == getattr(cat.defaults, default_key))
                assert row["released"] == window.released.isoformat()
                ends = (window.end_of_standard_support, window.end_of_extended_support)
                assert [row["end_of_standard_support"], row["end_of_extended_support"]] == [
                    None if d is None else d.isoformat() for d in ends
                ]
                assert row["as_of"] == cat.as_of.isoformat()
                assert row["source"] == versions.source
                assert row["service"] == getattr(cat.services, kind)
                assert row["engine_version"] == (window.engine_version if kind == "mysql" else None)
            assert sum(r["default"] for r in mine) == 1


def test_the_shipped_aws_catalog_on_its_date(capsys: pytest.CaptureFixture[str]) -> None:
    """Fixed facts of catalogs/aws.yaml as of 2026-12-02, the day boundaries included."""
    rows = {(r["kind"], r["version"]): r for r in _rows(capsys, "--cloud", "aws")}
    assert rows[("kubernetes", "1.31")]["status"] == "retired"  # extended support ended 2026-11-26
    # End of standard support on as_of itself: extended from that day on (EKS bills from the start of it).
    assert rows[("kubernetes", "1.34")]["end_of_standard_support"] == rows[("kubernetes", "1.34")]["as_of"]
    assert (rows[("kubernetes", "1.34")]["status"], rows[("kubernetes", "1.34")]["accepted"]) == ("extended", True)
    assert [v for (k, v), r in rows.items() if k == "kubernetes" and r["default"]] == ["1.36"]
    mysql = rows[("mysql", "8.4")]
    assert (mysql["engine_version"], mysql["end_of_standard_support"], mysql["status"], mysql["default"]) == (
        "8.4", None, "standard", True,
    )
    assert mysql["dates_source"].startswith("https://")


def test_a_cloud_that_creates_nothing_in_extended_support(capsys: pytest.CaptureFixture[str]) -> None:
    """GKE on REGULAR (create_in_extended_support: false): past standard support is retired, not accepted."""
    rows = {r["version"]: r for r in _rows(capsys, "--cloud", "gcp") if r["kind"] == "kubernetes"}
    assert (rows["1.33"]["status"], rows["1.33"]["accepted"]) == ("retired", False)
    assert (rows["1.34"]["status"], rows["1.34"]["accepted"]) == ("standard", True)


def test_cloud_option_filters_and_repeats_once(capsys: pytest.CaptureFixture[str]) -> None:
    rows = _rows(capsys, "--cloud", "azure", "--cloud", "gcp", "--cloud", "azure")
    assert list(dict.fromkeys(r["cloud"] for r in rows)) == ["azure", "gcp"]
    assert len(rows) == sum(len(getattr(load_catalog(c).cloud, a).versions) for c in ("azure", "gcp") for a, _ in KINDS.values())


def test_table_has_a_row_per_version_then_a_line_per_cloud(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["versions"], capsys)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == [
        "cloud", "kind", "version", "engine", "version", "released", "end", "of", "standard",
        "end", "of", "extended", "status", "accepted", "default",
    ]
    count = len(_rows(capsys))
    body = lines[2 : 2 + count]
    assert all(line.split()[0] in CLOUDS for line in body)
    aws_136 = next(line.split() for line in body if line.split()[:3] == ["aws", "kubernetes", "1.36"])
    assert aws_136[3:] == ["-", "2026-06-02", "2027-08-02", "2028-08-02", "standard", "yes", "yes"]
    aws_84 = next(line.split() for line in body if line.split()[:3] == ["aws", "mysql", "8.4"])
    assert aws_84[3:] == ["8.4", "2026-05-21", "-", "-", "standard", "yes", "yes"]
    assert lines[2 + count] == ""
    notes = lines[3 + count :]
    assert [n.split(":")[0] for n in notes] == list(CLOUDS)
    aws = load_catalog("aws").cloud
    assert notes[0].startswith(f"aws: as of {aws.as_of}; Kubernetes (Amazon EKS): {aws.kubernetes_versions.source}; ")
    assert f"MySQL ({aws.services.mysql}): {aws.mysql_versions.source}" in notes[0]
    assert f"MySQL 8.4 dates: {aws.mysql_versions.versions['8.4'].source}" in notes[0]


def test_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["versions", "--format", "markdown", "--cloud", "gcp"], capsys)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("| cloud | kind | version |") and lines[1] == "|" + "---|" * 10
    assert "| gcp | mysql | 8.0 | MYSQL_8_0 | 2020-08-30 | 2026-07-01 | 2029-07-01 | extended | yes | no |" in lines
    gcp = load_catalog("gcp").cloud
    assert lines[-2] == ""
    assert lines[-1].startswith(f"- gcp: as of {gcp.as_of}; Kubernetes (")
    assert f"Kubernetes 1.36 dates: {gcp.kubernetes_versions.versions['1.36'].source}" in lines[-1]


@pytest.mark.parametrize("fmt", ["table", "json", "markdown"])
def test_output_does_not_depend_on_today(capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    outputs = set()
    for today in ("2019-01-01", "2026-12-02", "2041-07-04"):
        with freezegun.freeze_time(today):
            code, out, err = run_cli(["versions", "--format", fmt], capsys)
        assert (code, err) == (0, "")
        outputs.add(out)
    assert len(outputs) == 1


def test_status_follows_the_catalog_as_of_date(tmp_path: Path) -> None:
    """An overlay that moves as_of back moves every judgement with it (and 'unreleased' is not accepted)."""
    overlay = tmp_path / "early.yaml"
    overlay.write_text(
        "as_of: 2025-06-01\ndefaults: {kubernetes_version: '1.33', mysql_version: '8.0'}\n", encoding="utf-8"
    )
    entry = cloud_versions(load_catalog("aws", (str(overlay),)))
    got = {(r["kind"], r["version"]): (r["status"], r["accepted"], r["default"]) for r in entry.rows}
    assert got[("kubernetes", "1.29")] == ("extended", True, False)
    assert got[("kubernetes", "1.30")] == ("standard", True, False)
    assert got[("kubernetes", "1.33")] == ("standard", True, True)
    assert got[("kubernetes", "1.34")] == ("unreleased", False, False)
    assert got[("mysql", "8.4")] == ("unreleased", False, False)
    assert got[("mysql", "8.0")] == ("standard", True, True)
    assert render_versions([entry], "table").splitlines()[-1].startswith("aws: as of 2025-06-01; ")


def test_an_unknown_format_is_an_option_error() -> None:
    with pytest.raises(OptionError, match=r"^--format: 'yaml' is not one of table, json, markdown$"):
        render_versions(version_table(["aws"]), "yaml")


@pytest.mark.parametrize(
    "args,message",
    [
        (["--format", "yaml"], "gen-tf: error: Invalid value for '--format': 'yaml' is not one of 'table', 'json', 'markdown'."),
        (["--cloud", "mars"], "gen-tf: error: Invalid value for '--cloud': 'mars' is not one of 'aws', 'gcp', 'azure'."),
    ],
)
def test_bad_options_are_one_line_exit_2(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    code, out, err = run_cli(["versions", *args], capsys)
    assert (code, out) == (2, "")
    assert err == message + "\n"


def test_a_broken_catalog_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A catalog whose default is past support is refused by the loader: the command says so in one line."""
    folder = tmp_path / "catalogs"
    shutil.copytree(catalog_module.data_dir("catalogs"), folder)
    aws = folder / "aws.yaml"
    aws.write_text(aws.read_text(encoding="utf-8").replace('kubernetes_version: "1.36"', 'kubernetes_version: "1.31"'), encoding="utf-8")
    monkeypatch.setattr(catalog_module, "data_dir", lambda name: folder)
    code, out, err = run_cli(["versions", "--cloud", "gcp", "--cloud", "aws"], capsys)
    assert (code, out) == (2, "")
    assert err.startswith("gen-tf: error: catalog aws.yaml: defaults.kubernetes_version: 1.31 is retired on ")
    assert err.count("\n") == 1
    # The other cloud's catalog is fine on its own.
    code, out, _ = run_cli(["versions", "--cloud", "gcp"], capsys)
    assert code == 0 and out.startswith("cloud")


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["versions", "-h"], capsys)
    assert code == 0
    assert out.splitlines()[0] == "Usage: gen-tf versions [OPTIONS]"
    assert "--format [table|json|markdown]" in out and "--cloud [aws|gcp|azure]" in out

