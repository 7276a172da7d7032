"""Document authentication (ICAO Doc 9303 Parts 11 and 12): Passive, Active and Chip
Authentication and the one verdict an officer sees.

Pure: trust anchors, CRLs and chip files come in as bytes; nothing here opens a database, a
file or a device. The database-backed trust store lives in :mod:`kiosk.trust`.
"""
