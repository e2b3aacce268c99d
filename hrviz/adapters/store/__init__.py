"""Where sessions are kept: implementations of :class:`hrviz.core.ports.SessionStore`.

``sqlite`` is the embedded default, ``mysql`` the real stack (its tables and migrations in
``mysql_schema``); ``rows`` is the row ⇄ model code both share. Beside the port, both also
``listing`` (browse, delete; ``mysql_listing``), keep ``summaries`` for insights and trends
(``summaries_mixins``) and append ``live`` sessions as they are recorded.
"""
