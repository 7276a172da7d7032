"""``kiosk bench auth``: document authentication cost.

* Passive + Active + Chip Authentication of a typical passport (RSA 2048 document signer
  under an ECDSA CSCA: the Guyana profile of the simulator, with an ECDH Chip Authentication
  key added), verified on a live in-process chip. Reader-side CPU only
  (``time.process_time``): the emulated chip's own CPU time is measured and subtracted.
* Importing the German CSCA master list (about 590 certificates) into a fresh SQLite database.
* Decoding the chip photo as the kiosk does (:class:`~kiosk.face.photo_decoder.ChipPhotoDecoder`:
  header checks here, Pillow in a worker process within a time limit), wall time per photo
  from request to pixels, for the bench passport's JPEG and the same portrait as JPEG 2000;
  beside it the same decode in this process, so the worker's cost (the pipe) shows.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hardware.sim.chip import PassportChip
from hardware.sim.chip_image import ChipImage
from hardware.sim.passports import PassportFactory, defect_plan
from hardware.sim.personalise import build_image, printed_mrz
from hardware.sim.profiles import get_profile
from kiosk.config import load_config
from kiosk.face.chip_photo import decode_chip_photo
from kiosk.face.photo_decoder import ChipPhotoDecoder
from kiosk.icao.auth.anchors import TrustAnchors
from kiosk.icao.auth.document import verify_document
from kiosk.icao.lds import parse_dg2
from kiosk.icao.mrz.parser import parse_mrz
from kiosk.icao.reader import read_passport
from kiosk.storage.database import Database, create_database_engine
from kiosk.trust.importer import import_files
from kiosk.trust.pinning import PinnedAnchors
from kiosk.trust.store import TrustStore

REPO = Path(__file__).resolve().parent.parent.parent
MASTER_LIST = REPO / "tests" / "data" / "trust" / "DE_ML_2026-05-28-08-28-45.ml"
# the German CSCA the list's signer chains to, pinned as an operator would pin it
MASTER_LIST_CSCA = REPO / "tests" / "data" / "trust" / "DE_ROOT_CA_CSCA07.cer"
PROFILE = "guy-genuine"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rounds", type=int, default=20, help="verifications to time")
    parser.add_argument("--master-list", type=Path, default=MASTER_LIST)
    parser.add_argument(
        "--master-list-csca",
        type=Path,
        default=MASTER_LIST_CSCA,
        help="the CSCA certificate the master list's signer is pinned to",
    )
    parser.add_argument("--cache", type=Path, help="simulator cache (default <data_dir>/sim)")
    parser.add_argument("--decodes", type=int, default=20, help="chip photo decodes to time")


def _typical_passport(factory: PassportFactory) -> tuple[ChipImage, str]:
    base = get_profile(PROFILE)
    chip = base.chip.model_copy(update={"ca_key": "ec:brainpoolP256r1", "ca_key_id": 1})
    profile = base.model_copy(update={"name": "bench-auth", "chip": chip})
    plan = defect_plan(profile)
    return build_image(plan, factory.pki), printed_mrz(plan)


def _anchors(factory: PassportFactory) -> TrustAnchors:
    pki = factory.pki
    paths = pki.trust_anchor_paths()
    return TrustAnchors(
        tuple(p.read_bytes() for p in paths if "link" not in p.name),
        tuple(p.read_bytes() for p in paths if "link" in p.name),
        tuple(p.read_bytes() for p in pki.crl_paths()),
    )


def _timed_chip(image: ChipImage) -> tuple[Callable[[bytes], bytes], list[float]]:
    chip = PassportChip(image)
    chip.power_on()
    spent = [0.0]

    def transmit(apdu: bytes) -> bytes:
        start = time.process_time()
        try:
            return chip.transmit(apdu)
        finally:
            spent[0] += time.process_time() - start

    return transmit, spent


def _verify_ms(image: ChipImage, mrz: str, anchors: TrustAnchors) -> tuple[float, bool]:
    transmit, chip_cpu = _timed_chip(image)
    read = read_passport(
        transmit,
        mrz_info=parse_mrz(mrz).mrz_information(),
        extended_length=True,
        max_response_bytes=65538,
    )
    chip_cpu[0] = 0.0
    start = time.process_time()
    verdict, _ = verify_document(
        read.files, anchors, printed_mrz=mrz, access_protocol=read.access, channel=read.channel
    )
    total = time.process_time() - start
    return (total - chip_cpu[0]) * 1000, verdict.authentic


def _master_list_import_s(path: Path, csca: Path) -> tuple[float, int]:
    pinned = PinnedAnchors((), (csca.read_bytes(),))
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-auth-") as tmp:
        database = Database(create_database_engine(f"sqlite:///{Path(tmp) / 'trust.db'}"))
        try:
            database.migrate()
            start = time.perf_counter()
            summary = import_files([path], TrustStore(database, pinned))
            elapsed = time.perf_counter() - start
        finally:
            database.close()
    return elapsed, summary.added


def _portraits(image: ChipImage) -> dict[str, bytes]:
    """The bench passport's chip photo (JPEG) and the same portrait as JPEG 2000."""
    from PIL import Image

    dg2 = parse_dg2(image.application_files[0x0102])
    jpeg = next(face.image for face in dg2.faces if face.image)
    out = io.BytesIO()
    Image.open(io.BytesIO(jpeg)).convert("RGB").save(
        out, "JPEG2000", quality_mode="rates", quality_layers=[20]
    )
    return {"jpeg": jpeg, "jpeg2000": out.getvalue()}


def _decode_ms(portraits: dict[str, bytes], rounds: int) -> dict[str, dict[str, float]]:
    """Median wall ms per format: through the kiosk's decoder worker, and in this process."""
    worker: dict[str, list[float]] = {}
    here: dict[str, list[float]] = {}
    with ChipPhotoDecoder() as decoder:
        decoder.wait_ready()
        for kind, data in portraits.items():
            decoder.decode(data)  # warm-up
            for _ in range(rounds):
                start = time.perf_counter()
                decoded = decoder.decode(data)
                worker.setdefault(kind, []).append((time.perf_counter() - start) * 1e3)
                if getattr(decoded, "ndim", 0) != 3:
                    raise RuntimeError(f"the bench {kind} chip photo was not decoded")
                start = time.perf_counter()
                decode_chip_photo(data)
                here.setdefault(kind, []).append((time.perf_counter() - start) * 1e3)
    return {
        "worker": {k: round(statistics.median(v), 2) for k, v in worker.items()},
        "in_process": {k: round(statistics.median(v), 2) for k, v in here.items()},
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    cache = args.cache or load_config(args.config).data_dir / "sim"
    factory = PassportFactory(cache)
    image, mrz = _typical_passport(factory)
    anchors = _anchors(factory)
    _verify_ms(image, mrz, anchors)  # warm-up: imports, caches
    samples = []
    authentic = True
    for _ in range(max(1, args.rounds)):
        ms, ok = _verify_ms(image, mrz, anchors)
        samples.append(ms)
        authentic = authentic and ok
    import_s, added = _master_list_import_s(args.master_list, args.master_list_csca)
    portraits = _portraits(image)
    decode = _decode_ms(portraits, max(1, getattr(args, "decodes", 20)))
    return {
        "verify_cpu_ms_median": round(statistics.median(samples), 2),
        "verify_cpu_ms_max": round(max(samples), 2),
        "verify_rounds": len(samples),
        "verified_authentic": authentic,
        "master_list_import_s": round(import_s, 3),
        "master_list_certificates_added": added,
        "decode_ms_median": decode["worker"],
        "decode_in_process_ms_median": decode["in_process"],
        "chip_photo_bytes": {kind: len(data) for kind, data in portraits.items()},
    }
