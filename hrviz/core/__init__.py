"""The pure core: entities, reading CSVs, anomaly detection, use cases and their ports.

Nothing in here opens sockets, touches a database, starts threads or prints: feed it data,
get values back. Adapters in :mod:`hrviz.adapters` do the I/O.
"""
