"""SQLAlchemy Core table definitions, one module per context schema.

Only the owning service writes a context's tables; other services may read them through
`gatehouse_schema.queries`.
"""
