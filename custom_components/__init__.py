"""Custom integrations shipped by this repository (kept as a package for the tests' imports)."""
