"""The committed examples are exactly what gen-tf generates today."""

from __future__ import annotations

from pathlib import Path

from conftest import REPO
from generator.examples import examples, stale


def test_examples_cover_every_combination() -> None:
    infra = [p for p in examples() if p.endswith("/main.tf") and not p.startswith("app-")]
    assert len(infra) == 18
    assert "aws-prod-both/main.tf" in examples()
    for cloud in ("aws", "gcp", "azure"):
        assert f"app-{cloud}-prod-both/operator.tf" in examples()
        assert f"app-{cloud}-prod-both/charts/wandb-manifests/Chart.yaml" in examples()


def test_committed_examples_are_fresh() -> None:
    assert stale(REPO / "examples") == [], "run 'make examples' and commit the result"


def test_stale_detection_works(tmp_path: Path) -> None:
    for path, text in examples().items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    assert stale(tmp_path) == []
    (tmp_path / "aws-dev-models/main.tf").write_text("# edited by hand\n")
    (tmp_path / "oci-dev-models").mkdir()
    (tmp_path / "oci-dev-models/main.tf").write_text("")
    assert stale(tmp_path) == ["aws-dev-models/main.tf", "oci-dev-models/main.tf"]
