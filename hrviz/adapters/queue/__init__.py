"""How readings travel to viewers: implementations of :class:`hrviz.core.ports.ReadingQueue`.

``local`` is the embedded default (the store is its log); ``kafka`` publishes to a topic,
``records`` is its record codec, ``staging`` holds the records encoded while a session is being
stored, and ``kafka_subscriber`` reads the topic back for replays.
"""
