"""Ingesting a path from disk into :mod:`hrviz.core.ingest`: hrviz's one ingest entry point.

``archives.ingest_path`` is what ``ingest``, ``watch`` and ``serve`` (through
``wiring.ingest_upload``) call: a file, or each file of a zip or folder. ``reader_process`` reads a
big file on two processes; ``reader_worker`` is the lean child interpreter that parses and streams
columns back (started by module path, so keep its imports to the core reader). Input still being
written (``hrviz ingest -``, ``--follow``) goes through ``tail`` and ``live`` into
:mod:`hrviz.core.live` instead, with ``spool`` holding it while the store is down.
"""
