"""Tests that drive real editors (headless Neovim) against the real server and the fake LLM."""
