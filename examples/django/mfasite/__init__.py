"""The example Django project around the ``mfa_django`` app."""
