"""EF.CardSecurity: SecurityInfos signed by the document signer (content type id-SecurityObject)."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.icao.lds.security_infos import SecurityInfos, parse_security_infos
from kiosk.icao.lds.signed_data import SignedContent, parse_signed_data


@dataclass(frozen=True)
class CardSecurity:
    raw: bytes
    signed: SignedContent  # content type, exact signed bytes, certificates, signer infos
    security_infos: SecurityInfos


def parse_card_security(data: bytes) -> CardSecurity:
    signed = parse_signed_data(data, "EF.CardSecurity")
    return CardSecurity(bytes(data), signed, parse_security_infos(signed.content))
