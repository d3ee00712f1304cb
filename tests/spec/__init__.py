"""Tests that read openapi.yaml as the specification it claims to be."""
