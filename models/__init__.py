"""The data model: SQLAlchemy tables and the typed records that cross layers. Pure."""
