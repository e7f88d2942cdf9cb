"""Helpers shared by tests of several tiers; test modules import these, never each other."""
