"""Composition root: settings, HTTP receiver, dispatcher and the `runbooks` CLI."""
