"""mfakit's test suite.

This file makes ``tests`` a package so that ``tests/webauthn/`` imports as
``tests.webauthn`` and does not shadow the PyPI ``webauthn`` package (py_webauthn),
which the differential tests use as an oracle.
"""
