"""The one query model: every door (the API, the pages, any door to come) builds a QuerySpec.

:mod:`.model` holds the vocabulary (operators, limits, QuerySpec, Cursor), :mod:`.values`
typed values and date parts, :mod:`.filters` filter parsing, :mod:`.cursor` the ``_next``
token and :mod:`.parse` the parsing of a whole request.
"""
