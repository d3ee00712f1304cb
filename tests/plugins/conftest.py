"""The built-in plugins are tested through the client, with the client suite's fixtures."""

from tests.client.conftest import api, mode, sleeps

__all__ = ["api", "mode", "sleeps"]
