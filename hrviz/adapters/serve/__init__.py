"""``hrviz serve``: the page over HTTP and the JSON-over-WebSocket API (docs/api.md) on one port.

``server`` listens and holds what connections share; ``connection`` is one client's messages;
``viewer`` paces one replay to one client; ``hub`` reads a session from the queue once for all
its viewers; ``explore`` answers the page's history, overview and events from the store;
``insights`` answers the insights and export messages; ``live`` grows the hubs of live sessions;
``static`` serves web/; ``auth`` is the access token and TLS of a shared server. The messages
themselves are encoded and decoded in :mod:`hrviz.core.protocol`.
"""
