"""PACE (Password Authenticated Connection Establishment), reader side and shared steps."""

from kiosk.icao.pace.card_access import PaceInfo, encode_card_access, parse_card_access
from kiosk.icao.pace.common import PacePassword, PasswordKind
from kiosk.icao.pace.groups import DhGroup, EcGroup, standard_group
from kiosk.icao.pace.oids import ProtocolSuite, ca_suite, pace_oid, pace_suite
from kiosk.icao.pace.reader import perform_pace, supported

__all__ = [
    "DhGroup",
    "EcGroup",
    "PaceInfo",
    "PacePassword",
    "PasswordKind",
    "ProtocolSuite",
    "ca_suite",
    "encode_card_access",
    "pace_oid",
    "pace_suite",
    "parse_card_access",
    "perform_pace",
    "standard_group",
    "supported",
]
