"""Exceptions shared by every layer of fairx (a leaf module: it imports nothing from fairx)."""

from __future__ import annotations


class NotFittedError(ValueError, AttributeError):
    """An estimator was used before ``fit`` (or a model before it was trained or loaded).

    Like scikit-learn's ``NotFittedError`` it is both a ``ValueError`` and an
    ``AttributeError``, so code that catches either keeps working.
    """


class TrainingDivergedError(RuntimeError, ValueError):
    """Training produced a non-finite loss and could not recover (e.g. the fair VAE's first epoch,
    also after halving the learning rate); the message names the settings to lower."""
