"""The common schema library: tables, migrations, events, RPC and API Structs shared by every service."""
