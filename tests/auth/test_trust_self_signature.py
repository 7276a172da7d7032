"""``kiosk trust import`` refuses a CSCA whose self-signature does not verify (an altered
certificate), and still takes the genuine one and link certificates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509

from kiosk.cli.main import main
from kiosk.trust.self_signature import SELF_SIGNATURE_INVALID, self_signature_problem

TRUST = Path(__file__).resolve().parents[1] / "data" / "trust"


def _altered(der: bytes) -> bytes:
    """The certificate with one more year of validity, the signature left as it was."""
    cert = asn1_x509.Certificate.load(der)
    tbs = cert["tbs_certificate"]
    after = tbs["validity"]["not_after"]
    moved = after.native.replace(year=after.native.year + 1)
    tbs["validity"]["not_after"] = asn1_x509.Time({after.name: moved})
    altered = asn1_x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": cert["signature_algorithm"],
            "signature_value": cert["signature_value"],
        }
    )
    return bytes(altered.dump(force=True))


@pytest.mark.parametrize("name", ["2016-01_CSCA.cer", "DE_ROOT_CA_CSCA07.cer", "NL_ROOT_CA.cer"])
def test_an_altered_csca_is_refused_and_the_genuine_one_kept(
    name: str, kiosk_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    genuine = (TRUST / name).read_bytes()
    forged = _altered(genuine)
    assert forged != genuine and self_signature_problem(genuine) is None
    assert self_signature_problem(forged) == SELF_SIGNATURE_INVALID  # the forgery is real
    path = tmp_path / "forged.cer"
    path.write_bytes(forged)
    # WHEN the forged certificate is imported THEN it is rejected with the reason
    main(["trust", "import", str(path), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["added"] == 0
    assert report["rejected"] == [{"file": "forged.cer", "reason": SELF_SIGNATURE_INVALID}]
    # AND the genuine one is accepted
    assert main(["trust", "import", str(TRUST / name), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["added"] == 1


def test_a_link_certificate_is_not_taken_for_a_broken_csca() -> None:
    link = (TRUST / "2016-01_CSCA_LINK.cer").read_bytes()
    assert self_signature_problem(link) is None
