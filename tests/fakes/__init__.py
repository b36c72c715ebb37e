"""Test doubles that stand in for the outside world (the fake LLM server)."""
