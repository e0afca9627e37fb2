"""activelabel_widget: label a pandas DataFrame in Jupyter with a model that trains as you label."""

from .errors import (ActiveLabelError, AlreadyAnsweredError, DataError, LabelError, ModelError, OptionError, StoreError,
                     StoreMismatchError)
from .labeler import ActiveLabeler
from .multisession import MultiLabelSession
from .session import LabelingSession
from .team_store import copy_store
from .weak import keywords, labeling_function, regex

__all__ = [
    "ActiveLabeler",
    "LabelingSession",
    "MultiLabelSession",
    "labeling_function",
    "keywords",
    "regex",
    "copy_store",
    "ActiveLabelError",
    "AlreadyAnsweredError",
    "DataError",
    "LabelError",
    "ModelError",
    "OptionError",
    "StoreError",
    "StoreMismatchError",
]
__version__ = "0.1.0"
