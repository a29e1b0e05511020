"""Test support: real PostgreSQL and NATS for every test run, and helpers to drive services."""
