"""Fixture files are data for the tests, not tests: keep pytest (and nbval) from collecting them."""

collect_ignore_glob = ["*"]
