"""The local server's scoring engines, one module each."""
