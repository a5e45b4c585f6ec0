"""Registry entries of the fair-latent generators (methods.md §1-§4). No heavy imports here."""

from ._registry import register  # noqa: F401
