"""The platform kit every Gatehouse service is built on: config, logging, tracing, errors, database,
NATS, the outbox and its relay, event consumers, RPC, token validation and the app factory."""
