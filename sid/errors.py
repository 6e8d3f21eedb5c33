"""sid's own exceptions.

Every error a user can cause (bad file, bad spec, infeasible weighting input) is a
:class:`SidError`. The CLI prints its message as one line and exits non-zero, without a
traceback. Messages say where (file, variable, row, margin), what is wrong, and what to do.
"""

from __future__ import annotations


class SidError(Exception):
    """Base class of every user-facing sid error (printed by the CLI as one line)."""

    exit_code = 2


class InputFileError(SidError):
    """An input file is missing, empty, truncated, of the wrong format or encoding."""


class SpecError(SidError):
    """A project spec (questionnaire, weighting, linkage, table plan) is invalid."""


class ExpressionError(SpecError):
    """A spec expression does not parse, or uses something the language forbids."""


class DataError(SidError):
    """Data disagree with the spec or with each other (codes, keys, merges)."""


class WeightingError(SidError):
    """Weighting input is infeasible or inconsistent (margins, bounds, empty cells)."""


class ConvergenceError(WeightingError):
    """An iterative solver did not reach its stated tolerance."""


class EstimationError(SidError):
    """An estimate cannot be computed as asked (unknown variable, empty domain, ...)."""


class LinkageError(SidError):
    """Linkage or indicator-base problem (unknown indicator, locked database, raw NRN)."""


class RunFolderError(SidError):
    """A run folder lacks the output of an earlier stage, or is not a sid run folder."""


class EstimationWarning(UserWarning):
    """An estimate was computed, but with something left out that the user should know."""
