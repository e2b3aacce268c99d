"""Ingesting a file from disk into :mod:`hrviz.core.ingest`: in one process, or two for big files.

``reader_process`` decides and drives; ``reader_worker`` is the lean child interpreter that
parses and streams columns back (started by module path, so keep its imports to the core reader).
"""
