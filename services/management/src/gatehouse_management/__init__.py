"""The management service: applications, API resources, scopes and roles."""
