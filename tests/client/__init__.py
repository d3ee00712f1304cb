"""Tests of the SDK facade: `Together`, `AsyncTogether` and everything behind them."""
