"""The API gateway: one route table reconstructs Logto's unified surface over the services."""
