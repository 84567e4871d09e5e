"""mfakit on Django: the models, the ``DjangoStore`` adapter and a few views.

The app keeps every port of :class:`mfakit.repositories.MfaStore` in Django
models (:mod:`mfa_django.models`); :class:`mfa_django.store.DjangoStore`
implements the ports on the ORM; :mod:`mfa_django.views` is a minimal security
page (authenticator app, backup codes, passkeys) and the second step of sign-in.
"""
