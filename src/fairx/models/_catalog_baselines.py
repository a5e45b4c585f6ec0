"""Registry entries of the baseline methods (methods.md §5). No heavy imports here."""

from ._registry import register  # noqa: F401
