"""Schema migrations, one ordered list per context schema, applied by the owner's `migrate` command.

Each step is forward-only SQL; steps are expand/contract so services can be deployed one at a time
(a step never drops what the previous release of another service still reads).
"""

from gatehouse_schema.migrations.runner import MIGRATIONS, apply_migrations, migrate_all
from gatehouse_schema.migrations.step import Migration

__all__ = ["MIGRATIONS", "Migration", "apply_migrations", "migrate_all"]
