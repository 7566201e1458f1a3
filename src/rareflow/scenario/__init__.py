"""Scenarios: schema, presets, loading, sampling and compilation into a network."""
