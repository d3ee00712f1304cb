"""Tests of the generator setup and the client it generates from openapi.yaml."""
