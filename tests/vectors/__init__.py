"""Test vectors (see README.md) and the tools that re-derive them."""
