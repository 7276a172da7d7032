"""Issuer and nationality codes of the CARICOM profile (ICAO 9303 Part 3 codes).

Members: Antigua and Barbuda, the Bahamas, Barbados, Belize, Dominica, Grenada, Guyana, Haiti,
Jamaica, Montserrat, Saint Kitts and Nevis, Saint Lucia, Saint Vincent and the Grenadines,
Suriname, Trinidad and Tobago. Associate members: Anguilla, Bermuda, the British Virgin
Islands, the Cayman Islands, the Turks and Caicos Islands, Aruba, Curacao and Sint Maarten.

Montserrat and the British associate members are British overseas territories: their
passports are issued with issuing state ``GBR`` and nationality ``GBD`` (British Overseas
Territories Citizen), so a GBR document with GBD nationality is eligible while a GBR document
with GBR nationality is not. Aruba, Curacao and Sint Maarten issue Dutch (``NLD``) passports
that the MRZ cannot tell apart from those of the Netherlands, so they are not eligible by
default; a deployment can add ``NLD`` if its policy says so.
"""

from __future__ import annotations

MEMBER_STATES: frozenset[str] = frozenset(
    {
        "ATG",
        "BHS",
        "BRB",
        "BLZ",
        "DMA",
        "GRD",
        "GUY",
        "HTI",
        "JAM",
        "KNA",
        "LCA",
        "VCT",
        "SUR",
        "TTO",
    }
)
# Montserrat has no ICAO issuing code of its own: its passports are GBR/GBD.
BRITISH_TERRITORY_MEMBERS = ("MSR",)
ASSOCIATE_BRITISH_TERRITORIES = ("AIA", "BMU", "VGB", "CYM", "TCA")
ASSOCIATE_DUTCH_TERRITORIES = ("ABW", "CUW", "SXM")

ISSUERS: frozenset[str] = MEMBER_STATES | {"GBR"}
NATIONALITIES: frozenset[str] = MEMBER_STATES | {"GBD"}
# Issuer -> nationalities that make that issuer's document eligible (None: any eligible one).
ISSUER_NATIONALITY_RULES: dict[str, frozenset[str]] = {"GBR": frozenset({"GBD"})}
