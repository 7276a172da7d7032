"""Evaluation: error rates from sorted scores (known answers and a brute-force reference), the
bootstrap over identities, groups and their differential, the report on the fixture faces,
`kiosk face eval` with its cache and `kiosk face calibrate`."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from kiosk.cli.main import main
from kiosk.config import load_config
from kiosk.face.bootstrap import draws
from kiosk.face.enrolment import Enrolment, paired
from kiosk.face.error_rates import SortedScores, equal_error_rate, threshold_at_fmr
from kiosk.face.evaluation import Settings, evaluate
from kiosk.face.evaluation_output import plot_det, write_pairs_csv
from kiosk.face.groups import Group, read_labels
from kiosk.face.pair_scores import collect, pair_blocks

# --- rates from sorted scores --------------------------------------------------------------


def test_known_answers_of_a_small_score_set() -> None:
    # GIVEN 4 genuine and 8 impostor distances chosen so every figure is known
    scores = SortedScores.of([0.5, 0.2, 0.4, 0.3], [0.35, 0.45, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1])
    # THEN FMR and FNMR at 0.4 are 1/8 and 1/4
    assert scores.fmr(0.4) == 0.125 and scores.fnmr(0.4) == 0.25
    # the EER is 1/4, where both rates are 1/4 (threshold 0.45)
    assert scores.eer() == (0.25, 0.45)
    # at FMR 1/8 one impostor may pass: the threshold is just under the second impostor
    at = scores.threshold_at_fmr(0.125)
    assert 0.449 < at < 0.45 and scores.fmr(at) == 0.125 and scores.fnmr(at) == 0.25
    # at FMR 0 none may: just under the first, and two genuine pairs are refused
    assert scores.fmr(scores.threshold_at_fmr(0.0)) == 0.0
    assert scores.fnmr(scores.threshold_at_fmr(0.0)) == 0.5


def test_equal_error_rate_of_overlapping_scores() -> None:
    eer, threshold = equal_error_rate(np.array([0.1, 0.2, 0.3, 0.55]), np.array([0.5, 0.7, 0.8]))
    assert eer == pytest.approx((1 / 3 + 1 / 4) / 2)
    assert 0.5 <= threshold < 0.55


def _brute_force(genuine: np.ndarray, impostor: np.ndarray) -> tuple[float, float]:
    """The EER by trying every candidate threshold (quadratic; the reference)."""
    best = (math.inf, math.nan)
    for t in np.unique(np.concatenate([genuine, impostor])):
        fmr, fnmr = float((impostor <= t).mean()), float((genuine > t).mean())
        if abs(fmr - fnmr) < best[0]:
            best = (abs(fmr - fnmr), (fmr + fnmr) / 2)
    return best[1], best[0]


@pytest.mark.parametrize("seed", range(25))
def test_sorted_scores_agree_with_brute_force(seed: int) -> None:
    # GIVEN small random score sets, with ties (values rounded to 2 decimals)
    rng = np.random.default_rng(seed)
    genuine = np.round(rng.normal(0.4, 0.12, rng.integers(1, 40)), 2)
    impostor = np.round(rng.normal(0.75, 0.1, rng.integers(1, 300)), 2)
    scores = SortedScores.of(genuine, impostor)
    # THEN every rate equals the direct count
    for t in np.concatenate([genuine, impostor, [0.0, 0.555, 2.0]]):
        assert scores.fmr(float(t)) == float((impostor <= t).mean())
        assert scores.fnmr(float(t)) == float((genuine > t).mean())
    # the threshold at a target FMR is the largest one meeting it
    for target in (0.0, 0.01, 0.05, 0.2):
        at = scores.threshold_at_fmr(target)
        assert (impostor <= at).mean() <= target + 1e-12
        above = np.nextafter(at, np.inf)
        assert (impostor <= above).mean() > target or above > impostor.max()
    # and the EER is the brute-force one (same gap between the two rates)
    eer, threshold = scores.eer()
    reference, gap = _brute_force(genuine, impostor)
    assert eer == pytest.approx(reference)
    assert abs(scores.fmr(threshold) - scores.fnmr(threshold)) == pytest.approx(gap)


def test_threshold_at_fmr_accepts_at_most_the_allowed_impostors() -> None:
    impostor = np.linspace(0.5, 1.5, 200)
    at = threshold_at_fmr(impostor, 0.01)  # two of 200 may pass
    assert (impostor <= at).sum() == 2
    assert (impostor <= threshold_at_fmr(impostor, 0.0)).sum() == 0


# --- a synthetic enrolment with known distances ---------------------------------------------


def _synthetic(spreads: list[float], positions: list[float]) -> Enrolment:
    """Identity k has two templates on a line: at positions[k] and positions[k] + spreads[k],
    so every distance is known."""
    rows, owners = [], []
    for k, (x, spread) in enumerate(zip(positions, spreads, strict=True)):
        for value in (x, x + spread):
            row = np.zeros(128)
            row[0] = value
            rows.append(row)
            owners.append(k)
    names = [f"p{k:02d}" for k in range(len(positions))]
    return Enrolment(
        names=names,
        images={n: [] for n in names},
        paths=[Path(f"{names[o]}/{i}.jpg") for i, o in enumerate(owners)],
        owners=np.array(owners, np.int64),
        encodings=np.vstack(rows),
        quality=np.ones(len(rows)),
    )


def _two_groups() -> tuple[Enrolment, dict[str, list[Group]]]:
    # men p00..p09, women p10..p19; one man and five women have a far second photo (1.0)
    spreads = [1.0] + [0.1] * 9 + [1.0] * 5 + [0.1] * 5
    positions = [10.0 * k for k in range(20)]
    positions[2] = 10.3  # p01 (10, 10.1) and p02 (10.3, 10.4): 4 impostor pairs <= 0.5
    positions[12] = 110.6  # p11 (110, 111) and p12 (110.6, 111.6): 1 pair <= 0.5
    enrolment = _synthetic(spreads, positions)
    men = np.arange(20) < 10
    return enrolment, {"sex": [Group("sex", "F", ~men), Group("sex", "M", men)]}


def test_group_figures_and_differential_at_the_global_threshold() -> None:
    # GIVEN 20 identities, two groups of 10, and threshold 0.5
    enrolment, groups = _two_groups()
    evaluation = evaluate(enrolment, Settings(threshold=0.5, replicates=50, seed=1), groups)
    report = evaluation.as_json()
    men, women = report["groups"]["sex"]["M"], report["groups"]["sex"]["F"]
    # THEN FNMR: 1 of 10 men's genuine pairs refused, 5 of 10 women's
    assert men["fnmr"] == pytest.approx(0.1) and women["fnmr"] == pytest.approx(0.5)
    # FMR over same-group impostor pairs only: 20 images make 180 pairs, minus 10 genuine
    assert men["pairs"] == {"genuine": 10, "impostor": 180}
    assert men["fmr"] == pytest.approx(4 / 180) and women["fmr"] == pytest.approx(1 / 180)
    # the differential is worst over best, with an interval around it
    differential = report["differential"]["sex"]
    assert differential["fnmr_ratio"] == pytest.approx(5.0)
    assert differential["fmr_ratio"] == pytest.approx(4.0)
    low, high = differential["fnmr_ratio_ci95"]
    assert low <= 5.0 and (high is None or high >= 5.0)  # None: unbounded (a zero FNMR)
    # and globally: 6 of 20 genuine pairs refused, 5 of 760 impostor pairs accepted
    assert report["at_threshold"]["fnmr"] == pytest.approx(6 / 20)
    assert report["at_threshold"]["fmr"] == pytest.approx(5 / (40 * 39 / 2 - 20))


def test_sides_encoded_apart_count_both_comparisons_of_every_pair() -> None:
    # GIVEN the same 20 identities, the live side's templates moved 0.2 off the reference's
    # (so reference(i) against live(j) is sqrt(d^2 + 0.04) for reference distance d)
    enrolment, groups = _two_groups()
    live = enrolment.encodings.copy()
    live[:, 1] = 0.2
    enrolment.live_encodings = live
    # WHEN evaluated at threshold 0.5
    report = evaluate(enrolment, Settings(threshold=0.5, replicates=50, seed=1), groups).as_json()
    men, women = report["groups"]["sex"]["M"], report["groups"]["sex"]["F"]
    # THEN every pair of images is compared both ways: twice the comparisons, same rates
    assert report["comparisons_per_pair"] == 2
    assert report["pairs"] == {"genuine": 40, "impostor": 2 * (40 * 39 // 2 - 20)}
    assert men["pairs"] == {"genuine": 20, "impostor": 360}
    assert men["fmr"] == pytest.approx(8 / 360) and women["fmr"] == pytest.approx(2 / 360)
    assert men["fnmr"] == pytest.approx(0.1) and women["fnmr"] == pytest.approx(0.5)
    assert report["at_threshold"]["fmr"] == pytest.approx(10 / (40 * 39 - 40))
    # and resolution is judged on distinct pairs, not on the doubled comparisons
    assert report["fmr_resolved"]["0.01"] is False


def test_pair_blocks_give_both_orders_when_the_sides_differ() -> None:
    # GIVEN reference and live templates of 17 images of 6 identities
    rng = np.random.default_rng(1)
    reference, live = rng.normal(size=(17, 128)), rng.normal(size=(17, 128))
    owners = np.repeat(np.arange(6), 3)[:17]
    # WHEN every pair is walked in blocks of 4
    found = sorted(
        (int(a), int(b), round(float(d), 9), bool(g))
        for part in pair_blocks(reference, owners, block=4, live=live)
        for a, b, d, g in zip(part.first, part.second, part.distance, part.genuine, strict=True)
    )
    # THEN each unordered pair gives reference(i) vs live(j) and reference(j) vs live(i)
    direct = sorted(
        (a, b, round(float(np.linalg.norm(reference[a] - live[b])), 9), owners[a] == owners[b])
        for i in range(17)
        for j in range(i + 1, 17)
        for a, b in ((i, j), (j, i))
    )
    assert found == direct
    distances_only = [p.distance for p in pair_blocks(reference, owners, 4, False, live)]
    assert sorted(np.concatenate(distances_only).round(9)) == sorted(d for _, _, d, _ in direct)


def test_paired_enrolment_keeps_images_enrolled_on_both_sides() -> None:
    # GIVEN two enrolments of one folder where the live side failed on one more image
    reference = _synthetic([0.1, 0.2, 0.3], [0.0, 5.0, 9.0])
    live = _synthetic([0.1, 0.2, 0.3], [0.0, 5.0, 9.0])
    live.encodings = live.encodings + 1.0
    lost = live.paths[3]
    keep = [i for i, path in enumerate(live.paths) if path != lost]
    live.paths = [live.paths[i] for i in keep]
    live.owners, live.encodings = live.owners[keep], live.encodings[keep]
    live.failures = {lost: "no_face"}
    # WHEN paired
    both = paired(reference, live)
    # THEN the image is a failure to enrol and the rows of both sides stay aligned
    assert both.failures == {lost: "no_face"} and lost not in both.paths
    assert both.live_encodings is not None and both.orders == 2
    assert np.allclose(both.live_encodings, both.encodings + 1.0)
    with pytest.raises(ValueError):
        paired(reference, _synthetic([0.1], [0.0]))


def test_bootstrap_is_deterministic_with_a_seed() -> None:
    enrolment, groups = _two_groups()
    runs = [
        evaluate(enrolment, Settings(threshold=0.5, replicates=40, seed=seed), groups).as_json()
        for seed in (7, 7, 8)
    ]
    assert runs[0]["ci95"] == runs[1]["ci95"]
    assert runs[0]["groups"] == runs[1]["groups"]
    assert runs[0]["ci95"] != runs[2]["ci95"]


def test_bootstrap_draws_identities_not_pairs() -> None:
    counts = draws(identities=30, replicates=200, seed=3)
    assert counts.shape == (200, 30)
    assert (counts.sum(axis=1) == 30).all()  # each draw is 30 identities
    assert (counts == 0).any() and (counts > 1).any()  # some left out, some drawn twice


def test_pair_blocks_cover_every_pair_once() -> None:
    rng = np.random.default_rng(0)
    encodings = rng.normal(size=(23, 128))
    owners = np.repeat(np.arange(8), 3)[:23]
    scores = collect(encodings, owners, block=5)
    direct = [
        (owners[i] == owners[j], float(np.linalg.norm(encodings[i] - encodings[j])))
        for i in range(23)
        for j in range(i + 1, 23)
    ]
    genuine = sorted(d for same, d in direct if same)
    impostor = sorted(d for same, d in direct if not same)
    assert np.allclose(scores.genuine, genuine) and np.allclose(scores.impostor, impostor)


def test_labels_file_with_several_values_per_cell(tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text('person,sex,group\na,M,\nb,F,"x,y"\nc,F,y\nzz,M,x\n', encoding="utf-8")
    groups = read_labels(labels, ["a", "b", "c"])
    assert [(g.value, g.members.tolist()) for g in groups["sex"]] == [
        ("F", [False, True, True]),
        ("M", [True, False, False]),
    ]
    assert [(g.value, g.identities) for g in groups["group"]] == [("x", 1), ("y", 2)]


# --- the fixture faces ----------------------------------------------------------------------


def test_fixture_faces_report(enrolment: Enrolment, tmp_path: Path) -> None:
    # GIVEN the fixture faces (6 identities, 19 images) WHEN evaluated
    evaluation = evaluate(enrolment, Settings(threshold=0.6, replicates=100))
    report = evaluation.as_json()
    # THEN every figure of the contract is there and consistent
    assert report["identities"] == 6
    assert report["pairs"] == {"genuine": 36, "impostor": 135}
    assert report["failure_to_enrol"] == 0
    assert 0.0 <= report["eer"] <= 0.05
    assert set(report["fnmr_at_fmr"]) == {"0.01", "0.001", "0.0001"}
    # 135 impostor pairs cannot show 30 false matches at any of the targets
    assert report["fmr_resolved"] == {"0.01": False, "0.001": False, "0.0001": False}
    assert report["at_threshold"] == {"threshold": 0.6, "fmr": 0.0, "fnmr": 0.0}
    low, high = report["ci95"]["eer"]
    assert 0.0 <= low <= high <= 1.0
    rows = write_pairs_csv(evaluation, tmp_path / "pairs.csv", 0.6, tmp_path)
    plot_det(evaluation, tmp_path / "det.png", 0.6)
    assert rows == 171 and len((tmp_path / "pairs.csv").read_text().splitlines()) == 1 + 171
    assert (tmp_path / "det.png").read_bytes()[:4] == b"\x89PNG"


def _small_set(tmp_path: Path, faces_dir: Path) -> Path:
    folder = tmp_path / "set"
    for person, names in {
        "obama": ["obama_small.jpg", "obama_480p.jpg"],
        "kit_harington": ["kit_2.jpg"],
    }.items():
        (folder / person).mkdir(parents=True)
        for name in names:
            shutil.copy(faces_dir / person / name, folder / person / name)
    (folder / "kit_harington" / "broken.jpg").write_bytes(b"not an image")
    return folder


def _last_json(capsys: pytest.CaptureFixture[str]) -> dict:  # type: ignore[type-arg]
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_cli_eval_with_labels_and_cache(
    tmp_path: Path, faces_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN two identities with two images each, one of them unreadable, and labels
    folder = _small_set(tmp_path, faces_dir)
    labels = tmp_path / "labels.csv"
    labels.write_text("person,sex\nobama,M\nkit_harington,M\n", encoding="utf-8")
    cache = tmp_path / "templates.npz"
    args = ["face", "eval", str(folder), "--json", "--labels", str(labels), "--cache", str(cache)]
    # WHEN evaluated from the command line with the shipped encoders (the chip photo's side
    # with 3 jitters, the live side with 1), with the per-pair CSV and the DET plot
    csv_file, det = tmp_path / "p.csv", tmp_path / "det.png"
    code = main([*args, "--csv", str(csv_file), "--plot", str(det), "--threshold", "0.55"])
    report = _last_json(capsys)
    # THEN the broken file is a failure to enrol and the three others make three pairs,
    # each compared both ways (reference side against live side)
    assert code == 0
    assert report["failure_to_enrol"] == pytest.approx(0.25)
    assert report["failed_to_enrol"] == {"images": 1, "reasons": {"unreadable_image": 1}}
    assert report["pairs"] == {"genuine": 2, "impostor": 4}
    assert report["encoder"]["reference"]["num_jitters"] == 3
    assert report["encoder"]["live"]["num_jitters"] == 1
    assert report["at_threshold"]["threshold"] == 0.55
    contract = {"fnmr_at_fmr", "fmr_resolved", "eer", "failure_to_enrol", "pairs", "threshold"}
    assert contract | {"at_threshold", "groups", "differential"} <= set(report)
    assert set(report["at_threshold"]) == {"threshold", "fmr", "fnmr"}
    assert report["groups"]["sex"]["M"]["identities"] == 2
    assert set(report["differential"]["sex"]) >= {"fnmr_ratio", "fmr_ratio"}
    lines = csv_file.read_text().splitlines()
    assert det.exists() and len(lines) == 7 and lines[0].startswith("reference,live,")
    # the templates of each setting in their own file, biometric data: 0600
    per_setting = [tmp_path / "templates-j3-l68.npz", tmp_path / "templates-j1-l68.npz"]
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in per_setting)
    assert not cache.exists()
    # WHEN run again THEN every template of both sides comes from the cache, same figures
    assert main(args) == 0
    again = _last_json(capsys)
    assert again["templates_from_cache"] == 8
    assert again["eer"] == report["eer"] and again["pairs"] == report["pairs"]
    # WHEN both sides are given one setting THEN one comparison per pair, the cache as named
    assert main([*args, "--reference-jitters", "1"]) == 0
    alike = _last_json(capsys)
    assert alike["pairs"] == {"genuine": 1, "impostor": 2} and alike["templates_from_cache"] == 0
    assert cache.stat().st_mode & 0o777 == 0o600


def test_cli_eval_refuses_bad_inputs(tmp_path: Path, faces_dir: Path) -> None:
    folder = _small_set(tmp_path, faces_dir)
    assert main(["face", "eval", str(tmp_path / "absent")]) == 2
    no_person = tmp_path / "bad.csv"
    no_person.write_text("name,sex\nobama,M\n", encoding="utf-8")
    assert main(["face", "eval", str(folder), "--labels", str(no_person)]) == 2
    assert main(["face", "eval", str(folder), "--threshold", "-1"]) == 2
    assert main(["face", "eval", str(folder), "--live-jitters", "0"]) == 2
    empty = tmp_path / "empty"
    (empty / "nobody").mkdir(parents=True)
    (empty / "nobody" / "x.jpg").write_bytes(b"junk")
    assert main(["face", "eval", str(empty)]) == 2


def test_cli_calibrate_writes_the_threshold(
    tmp_path: Path, faces_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a configuration file with a face table and other settings
    config = tmp_path / "kiosk.toml"
    config.write_text('kiosk_id = "gate-7"\n\n[face]\nthreshold = 0.6\nmax_attempts = 2\n')
    # WHEN calibrated at FMR 1 % on the fixture faces and written
    code = main(
        ["face", "calibrate", str(faces_dir), "--fmr", "0.01", "--json", "--write", str(config)]
    )
    result = _last_json(capsys)
    # THEN the threshold is the one meeting the target, with an interval, and is in the file
    assert code == 0
    assert result["fmr_target"] == 0.01 and result["written"] == str(config)
    low, high = result["threshold_ci95"]
    assert low <= result["threshold"] <= high
    loaded = load_config(config)
    assert loaded.face.threshold == pytest.approx(round(result["threshold"], 4))
    assert loaded.face.max_attempts == 2 and loaded.kiosk_id == "gate-7"
    assert "calibrated by kiosk face calibrate" in config.read_text()


def test_bench_face_eval_prints_its_figures(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["bench", "face-eval", "--images", "300", "--bootstrap", "20", "--json"])
    figures = _last_json(capsys)
    assert code == 0
    assert figures["pairs"] == 300 * 299 // 2 and figures["genuine_pairs"] == 60 * 10
    assert "seconds_total" in figures and 0 <= figures["eer"] < 0.5  # the time is reported
