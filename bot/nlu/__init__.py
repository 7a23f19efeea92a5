"""NLU pipeline components named in ``config.yml``: the Cyrillic view of translit,
the linear intent classifier and its sentence vectors, emoji words, order ids."""
