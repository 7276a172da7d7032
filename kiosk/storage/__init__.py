"""Local persistence of the kiosk.

Modules: ``database`` (engine, sessions, ``open_database``), ``recorder`` (one decided
transaction in one database transaction), ``crypto_store`` (biometric data encrypted at rest),
``purge`` (retention), ``outbox`` (transactional outbox), ``integrity`` (crash checks).
Import from the modules; this package re-exports nothing, to keep imports acyclic.
"""
