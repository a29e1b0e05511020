"""The SQLAlchemy tables of the schema library describe what the migrations create: every column of every
table exists in a migrated database, with the same nullability. (Services build their statements from the
tables, so a drift would only show as a failing query at run time.)"""

import sqlalchemy as sa
from gatehouse_platform.db import create_engine
from gatehouse_schema.tables import audit, experience, identity, management, organizations
from gatehouse_schema.tables.common import metadata

CONTEXTS = (audit, experience, identity, management, organizations)  # each module declares its tables


async def test_every_table_and_column_exists_as_declared(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                sa.text(
                    "SELECT table_schema, table_name, column_name, is_nullable FROM information_schema.columns "
                    "WHERE table_schema IN ('identity', 'management', 'organizations', 'audit', 'experience')"
                )
            )
            actual = {(r.table_schema, r.table_name, r.column_name): r.is_nullable == "YES" for r in rows}
    finally:
        await engine.dispose()
    problems = []
    for table in metadata.sorted_tables:
        for column in table.columns:
            key = (table.schema, table.name, column.name)
            if key not in actual:
                problems.append(f"{table.schema}.{table.name}.{column.name}: not in the migrated database")
            elif not column.primary_key and actual[key] != column.nullable:
                problems.append(f"{table.schema}.{table.name}.{column.name}: nullable {actual[key]} in the database")
    assert {t.schema for t in metadata.sorted_tables} == {c.SCHEMA for c in CONTEXTS}
    assert not problems, "\n".join(problems)
