"""Hypothesis settings for property tests whose verdict must not depend on luck.

``derandomize`` draws the same examples on every run and machine, and no example
database carries a failure of one run into the next: a property passes or fails for
the code under test alone.
"""

from hypothesis import settings

DETERMINISTIC = settings(derandomize=True, database=None, deadline=None, max_examples=200)
