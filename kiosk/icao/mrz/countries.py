"""Three-letter codes accepted for the issuing state and the nationality (ICAO 9303 Part 3).

The codes are the ISO 3166-1 alpha-3 codes, except Germany, which ICAO 9303 codes as ``D``,
plus the codes ICAO reserves for special cases and organisations. In the MRZ a shorter code is
padded with fillers (``D<<``); :func:`is_known_code` takes the code with or without them.
"""

from __future__ import annotations

_ISO_3166_ALPHA3_TEXT = """
    ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BEL BEN BES BFA
    BGD BGR BHR BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA CAF CAN CCK CHE CHL CHN
    CIV CMR COD COG COK COL COM CPV CRI CUB CUW CXR CYM CYP CZE DJI DMA DNK DOM DZA ECU
    EGY ERI ESH ESP EST ETH FIN FJI FLK FRA FRO FSM GAB GBR GEO GGY GHA GIB GIN GLP GMB GNB
    GNQ GRC GRD GRL GTM GUF GUM GUY HKG HMD HND HRV HTI HUN IDN IMN IND IOT IRL IRN IRQ ISL
    ISR ITA JAM JEY JOR JPN KAZ KEN KGZ KHM KIR KNA KOR KWT LAO LBN LBR LBY LCA LIE LKA LSO
    LTU LUX LVA MAC MAF MAR MCO MDA MDG MDV MEX MHL MKD MLI MLT MMR MNE MNG MNP MOZ MRT MSR
    MTQ MUS MWI MYS MYT NAM NCL NER NFK NGA NIC NIU NLD NOR NPL NRU NZL OMN PAK PAN PCN PER
    PHL PLW PNG POL PRI PRK PRT PRY PSE PYF QAT REU ROU RUS RWA SAU SDN SEN SGP SGS SHN SJM
    SLB SLE SLV SMR SOM SPM SRB SSD STP SUR SVK SVN SWE SWZ SXM SYC SYR TCA TCD TGO THA TJK
    TKL TKM TLS TON TTO TUN TUR TUV TWN TZA UGA UKR UMI URY USA UZB VAT VCT VEN VGB VIR VNM
    VUT WLF WSM YEM ZAF ZMB ZWE
"""
ISO_3166_ALPHA3 = frozenset(_ISO_3166_ALPHA3_TEXT.split())

# ICAO 9303 Part 3 special codes: Germany, British nationals other than citizens, United
# Nations documents, stateless persons and refugees, unspecified nationality, the European
# Union, and Utopia, the fictional state of the ICAO specimens.
ICAO_SPECIAL_CODES: dict[str, str] = {
    "D": "Germany",
    "GBD": "British Overseas Territories Citizen",
    "GBN": "British National (Overseas)",
    "GBO": "British Overseas Citizen",
    "GBP": "British Protected Person",
    "GBS": "British Subject",
    "UNO": "United Nations Organization or one of its officials",
    "UNA": "Specialized agency of the United Nations or one of its officials",
    "UNK": "Resident of Kosovo with a document issued by UNMIK",
    "XXA": "Stateless person (1954 Convention)",
    "XXB": "Refugee (1951 Convention)",
    "XXC": "Refugee (other than under the 1951 Convention)",
    "XXX": "Person of unspecified nationality",
    "EUE": "European Union",
    "UTO": "Utopia (ICAO specimen state, not a real state)",
}

# Organisations that issue travel documents and have ICAO codes beginning with X.
ICAO_ORGANISATION_CODES: dict[str, str] = {
    "XBA": "African Development Bank",
    "XIM": "African Export-Import Bank",
    "XCC": "Caribbean Community",
    "XCO": "Common Market for Eastern and Southern Africa",
    "XEC": "Economic Community of West African States",
    "XPO": "International Criminal Police Organization",
    "XES": "Organisation of Eastern Caribbean States",
    "XOM": "Sovereign Military Order of Malta",
    "XDC": "Southern African Development Community",
}

# Kosovo's own documents use RKS, which receiving states' inspection systems accept.
REGIONAL_CODES: dict[str, str] = {"RKS": "Kosovo"}

SPECIMEN_CODE = "UTO"

KNOWN_CODES: frozenset[str] = (
    ISO_3166_ALPHA3
    | frozenset(ICAO_SPECIAL_CODES)
    | frozenset(ICAO_ORGANISATION_CODES)
    | frozenset(REGIONAL_CODES)
)


def is_known_code(code: str) -> bool:
    """True for a code of ICAO 9303 Part 3, given as in the MRZ (``D<<``) or bare (``D``)."""
    return code.rstrip("<") in KNOWN_CODES


def mrz_code(code: str) -> str:
    """The 3-character MRZ form of a known code (``D`` -> ``D<<``)."""
    return code.rstrip("<").ljust(3, "<")
