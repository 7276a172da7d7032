"""Evaluation: error-rate arithmetic, the report on the fixture faces, and `kiosk face eval`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kiosk.cli.main import main
from kiosk.face.evaluation import Enrolment, equal_error_rate, evaluate, threshold_at_fmr
from kiosk.face.evaluation_output import plot_det, write_pairs_csv


def test_equal_error_rate_of_overlapping_scores() -> None:
    # GIVEN genuine and impostor distances that overlap by one pair each
    genuine = np.array([0.1, 0.2, 0.3, 0.55])
    impostor = np.array([0.5, 0.7, 0.8, 0.9])
    eer, threshold = equal_error_rate(genuine, impostor)
    # THEN the EER is 1 in 4 on each side
    assert eer == pytest.approx(0.25)
    assert 0.5 <= threshold < 0.55


def test_threshold_at_fmr_accepts_at_most_the_allowed_impostors() -> None:
    impostor = np.linspace(0.5, 1.5, 200)
    at = threshold_at_fmr(impostor, 0.01)  # two of 200 may pass
    assert (impostor <= at).sum() == 2
    assert (impostor <= threshold_at_fmr(impostor, 0.0)).sum() == 0


def test_fixture_faces_report(enrolment: Enrolment, tmp_path: Path) -> None:
    # GIVEN the fixture faces (6 identities, 19 images) WHEN evaluated
    evaluation = evaluate(enrolment)
    report = evaluation.as_json()
    # THEN every figure of the contract is there and consistent
    assert report["identities"] == 6
    assert report["pairs"] == {"genuine": 36, "impostor": 135}
    assert report["failure_to_enrol"] == 0
    assert 0.0 <= report["eer"] <= 0.05
    assert set(report["fnmr_at_fmr"]) == {"0.01", "0.001"}
    assert report["fmr_resolved"] == {"0.01": True, "0.001": False}  # 135 pairs < 1000
    # and the default threshold (0.6) separates the set
    assert (evaluation.genuine <= 0.6).all() and (evaluation.impostor > 0.6).all()
    write_pairs_csv(evaluation, tmp_path / "pairs.csv", 0.6, tmp_path)
    plot_det(evaluation, tmp_path / "det.png", 0.6)
    assert len((tmp_path / "pairs.csv").read_text().splitlines()) == 1 + 171
    assert (tmp_path / "det.png").read_bytes()[:4] == b"\x89PNG"


def test_cli_eval_on_a_small_set(
    tmp_path: Path, faces_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN two identities with two images each, one of them unreadable
    for person, names in {
        "obama": ["obama_small.jpg", "obama_480p.jpg"],
        "kit_harington": ["kit_2.jpg"],
    }.items():
        (tmp_path / person).mkdir()
        for name in names:
            (tmp_path / person / name).write_bytes((faces_dir / person / name).read_bytes())
    (tmp_path / "kit_harington" / "broken.jpg").write_bytes(b"not an image")
    # WHEN evaluated from the command line
    code = main(
        [
            "face",
            "eval",
            str(tmp_path),
            "--json",
            "--csv",
            str(tmp_path / "p.csv"),
            "--plot",
            str(tmp_path / "det.png"),
        ]
    )
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    # THEN the broken file is a failure to enrol and the three others make three pairs
    assert code == 0
    assert report["failure_to_enrol"] == 1
    assert report["pairs"] == {"genuine": 1, "impostor": 2}
    assert {"eer", "fnmr_at_fmr", "threshold", "identities"} <= set(report)
    assert (tmp_path / "det.png").exists()
