"""The package's documented errors.

Every user-facing failure raises one of these, with a message that says what to do.
All derive from :class:`ActiveLabelError`, so ``except ActiveLabelError`` catches them all;
the data and label errors are also ``ValueError`` for code that expects that.
"""

__all__ = ["ActiveLabelError", "DataError", "LabelError", "OptionError", "StoreError", "StoreMismatchError", "ModelError"]


class ActiveLabelError(Exception):
    """Base class of every error this package raises on purpose."""


class DataError(ActiveLabelError, ValueError):
    """The DataFrame (or an argument describing it) cannot be labeled as given."""


class LabelError(ActiveLabelError, ValueError):
    """A label or a row key that the labeler does not know."""


class OptionError(ActiveLabelError, ValueError):
    """An option of the labeler has a value it cannot use (``strategy=``, ``retrain_every=``, ...)."""


class StoreError(ActiveLabelError):
    """The label store cannot be opened or written."""


class AlreadyAnsweredError(StoreError):
    """A team store refused an answer: as many other annotators as asked for answered the record
    already (it reached this annotator after its lease had lapsed). Nothing was saved."""


class StoreMismatchError(StoreError):
    """The label store was made for other data or other labels."""


class ModelError(ActiveLabelError):
    """A model could not be fitted or could not score the pool."""
