"""How readings travel to viewers: implementations of :class:`hrviz.core.ports.ReadingQueue`.

``local`` is the embedded default (the store is its log); ``kafka`` publishes to a topic and
``kafka_subscriber`` reads it back for replays.
"""
