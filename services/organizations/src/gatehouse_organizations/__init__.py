"""The organizations service. Its API groups are not served yet: the gateway routes them here and they answer 404."""
