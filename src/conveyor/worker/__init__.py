"""Workflow registry, the handler context, and the worker runtime."""
