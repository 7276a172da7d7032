"""GIVEN regional and national lost/stolen lists WHEN a manifest's documents are looked up
in one vectorised pass THEN every traveller gets the lists the one-at-a-time lookup gives,
including documents listed without a type, with another type, lower case, blank numbers."""

from __future__ import annotations

import random
import uuid

import numpy as np
import pytest

from kiosk.screening.lost_stolen import DocumentKey, LostStolenIndex, hash_keys
from server.vetting.lists import VettingLists


def test_a_manifests_documents_at_once_match_the_one_at_a_time_lookup() -> None:
    rng = random.Random(5)
    alphabet = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"

    def number() -> str:
        return "".join(rng.choice(alphabet) for _ in range(9))

    listed = [("TTO", rng.choice(["P", "I", ""]), number()) for _ in range(300)]
    national = [("BRB", "P", number()) for _ in range(50)]
    lists = VettingLists(
        regional_documents=LostStolenIndex.from_keys(DocumentKey.of(*k) for k in listed),
        national_documents={
            "BRB": LostStolenIndex.from_keys(DocumentKey.of(*k) for k in national),
            "JAM": LostStolenIndex(),
        },
    )
    documents = [
        *listed[:100],
        *[(i, "V", n) for i, _, n in listed[100:150]],  # listed with no type or another one
        *[(i.lower(), t.lower(), f" {n.lower()} ") for i, t, n in listed[150:200]],
        *national[:20],
        *[("TTO", "P", number()) for _ in range(100)],  # not listed
        ("", "", ""),
        ("TTO", "P", "  "),
        ("TTO", "P", "<<<"),
    ]
    many = lists.document_hits_many(documents)
    one = [lists.document_hits(*d) if d[2].strip() else [] for d in documents]
    assert many == one
    assert sum(1 for found in many if found) >= 150  # the listed ones were found


@pytest.mark.postgres
def test_the_lost_stolen_list_copied_from_postgresql_is_the_list_read_row_by_row(
    server_setup,
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN lost/stolen changes in normal form and not: lower case, spaces, a tab, a
    # backslash, accents, a lower-case or long type, no type, JSON null, a deleted key, a
    # key deleted then listed again, a type changed by a later version
    from models.server_tables import ListChangeRow
    from server.vetting import lists as vetting_lists

    state = server_setup.state
    tag = uuid.uuid4().hex[:6].upper()
    changes = [
        (1, "upsert", f"TTO:{tag}01", {"doc_type": "P"}),
        (1, "upsert", f"TTO:{tag}02", {}),
        (1, "upsert", f"tto:{tag.lower()}03", {"doc_type": "p"}),
        (1, "upsert", f"GB R: {tag} 04", {"doc_type": "PASSPORT"}),
        (1, "upsert", f"TT\tO:{tag}\\05", {"doc_type": "I"}),
        (1, "upsert", f"DEU:MÜ{tag}06", {"doc_type": "P"}),
        (1, "upsert", f"JAM:{tag}07", None),
        (1, "upsert", f"JAM:{tag}08", {"doc_type": "V"}),
        (2, "delete", f"JAM:{tag}08", None),
        (1, "delete", f"BRB:{tag}09", None),
        (2, "upsert", f"BRB:{tag}09", {"doc_type": "A"}),
        (1, "upsert", f"LCA:{tag}10", {"doc_type": "P"}),
        (3, "upsert", f"LCA:{tag}10", {"doc_type": "C"}),
    ]
    with state.database.session() as session:
        session.add_all(
            ListChangeRow(
                list_name="lost_stolen", version=v, op=op, key=key, data=data, uploaded_by="t"
            )  # fmt: skip
            for v, op, key, data in changes
        )
    # WHEN the list is loaded through PostgreSQL's COPY and through the row-by-row reading
    with state.database.sessions() as session:
        copied = vetting_lists._regional_documents(session, None)
        read = LostStolenIndex(
            hash_keys(
                vetting_lists._document(k, str(t))
                for k, t in vetting_lists._current(session, "lost_stolen", vetting_lists._DOC_TYPE)
            )
        )
    # THEN both hold the same documents (9 of these are live: an upsert without data is a
    # document listed with no type)
    assert np.array_equal(copied._hashes, read._hashes)
    listed = [("TTO", "P", "03"), ("BRB", "A", "09"), ("LCA", "C", "10"), ("GBR", "P", "04")]
    for issuer, doc_type, suffix in listed:
        number = f"{tag}{suffix}"
        assert copied.lookup(issuer, doc_type, number)
    assert copied.lookup("JAM", "P", f"{tag}07")
    assert not copied.lookup("JAM", "V", f"{tag}08")  # deleted
    assert not copied.lookup("LCA", "P", f"{tag}10")  # its type changed to C
