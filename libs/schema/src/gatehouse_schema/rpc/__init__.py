"""Request and reply Structs of the NATS RPC commands, per owning context."""
