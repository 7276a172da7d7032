"""The Logical Data Structure of eMRTDs (ICAO Doc 9303 Part 10): parsers and encoders.

Pure: bytes in, typed records out; every malformed input raises :class:`LdsParseError`.
Encoders (used by personalisation of simulated chips) raise :class:`LdsEncodeError` on values
that cannot be encoded.
"""

from kiosk.icao.lds.card_security import CardSecurity, parse_card_security
from kiosk.icao.lds.com import DG_TAGS, EfCom, encode_com, parse_com
from kiosk.icao.lds.dg1 import Dg1, encode_dg1, parse_dg1
from kiosk.icao.lds.dg2 import Dg2, encode_dg2, parse_dg2
from kiosk.icao.lds.dg7 import Dg7, encode_dg7, parse_dg7
from kiosk.icao.lds.dg15 import Dg15, encode_dg15, parse_dg15
from kiosk.icao.lds.errors import LdsEncodeError, LdsParseError
from kiosk.icao.lds.face_record import ISO19794_5, ISO39794_5, FaceImage
from kiosk.icao.lds.files import RawDataGroup, parse_data_group, parse_lds_file
from kiosk.icao.lds.personal_details import (
    PersonalDetails,
    encode_dg11,
    encode_dg12,
    parse_dg11,
    parse_dg12,
)
from kiosk.icao.lds.public_key import PublicKey, parse_public_key_info
from kiosk.icao.lds.security_infos import SecurityInfos, encode_dg14, parse_card_access, parse_dg14
from kiosk.icao.lds.signed_data import SignedContent, SignerInfo, parse_signed_data
from kiosk.icao.lds.sod import SecurityObject, encode_lds_security_object, encode_sod, parse_sod

__all__ = [
    "DG_TAGS",
    "ISO19794_5",
    "ISO39794_5",
    "CardSecurity",
    "Dg1",
    "Dg2",
    "Dg7",
    "Dg15",
    "EfCom",
    "FaceImage",
    "LdsEncodeError",
    "LdsParseError",
    "PersonalDetails",
    "PublicKey",
    "RawDataGroup",
    "SecurityInfos",
    "SecurityObject",
    "SignedContent",
    "SignerInfo",
    "encode_com",
    "encode_dg1",
    "encode_dg2",
    "encode_dg7",
    "encode_dg11",
    "encode_dg12",
    "encode_dg14",
    "encode_dg15",
    "encode_lds_security_object",
    "encode_sod",
    "parse_card_access",
    "parse_card_security",
    "parse_com",
    "parse_data_group",
    "parse_dg1",
    "parse_dg2",
    "parse_dg7",
    "parse_dg11",
    "parse_dg12",
    "parse_dg14",
    "parse_dg15",
    "parse_lds_file",
    "parse_public_key_info",
    "parse_signed_data",
    "parse_sod",
]
