"""``hrviz watch``: the replay as a live terminal chart (docs/watch.md).

A feed (``feed``: a local replay; ``follow``: a session paced by a running ``hrviz serve``;
``growing``: a live session, or stdin) gives
readings and events to a view (``view``: what is shown, no drawing) drawn by ``chart`` in a
full-screen ``live`` loop with ``keys``, or line by line by ``plain`` when not on a terminal.
"""
