"""Whoosh as a search engine (``engine.SearchEngine``): the only package importing Whoosh.

Written against whoosh-reloaded ``WRITTEN_AGAINST`` (pinned in pyproject.toml).
``bulk`` fills the codec's buffers directly: its comparison test
(tests/test_bulk_index.py) fails if those internals change with another version.
"""
from .store import WRITTEN_AGAINST, WhooshEngine

__all__ = ["WRITTEN_AGAINST", "WhooshEngine"]
