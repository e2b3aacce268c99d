"""The I/O side of hrviz, one sub-package per thing it plugs into.

``store/`` (SessionStore), ``queue/`` (ReadingQueue), ``ingest/`` (reading files from disk for
core.ingest), ``serve/`` (the web page and WebSocket API), ``watch/`` (the terminal replay),
``console/`` (ingest's printed summary). Sub-packages do not import each other (import-linter
checks it); only :mod:`hrviz.wiring` and the commands put them together.
"""
