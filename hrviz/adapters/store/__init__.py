"""Where sessions are kept: implementations of :class:`hrviz.core.ports.SessionStore`.

``sqlite`` is the embedded default, ``mysql`` the real stack (its tables and migrations in
``mysql_schema``); ``rows`` is the row ⇄ model code both share.
"""
