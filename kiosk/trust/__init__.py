"""The kiosk's trust store: CSCA and link certificates, document signers and CRLs imported
from master lists, single files and ICAO PKD LDIF files, kept in the local database and
handed to :mod:`kiosk.icao.auth` as :class:`~kiosk.icao.auth.anchors.TrustAnchors`."""
