"""activelabel_widget: label a pandas DataFrame in Jupyter with a model that trains as you label."""

from .errors import ActiveLabelError, DataError, LabelError, ModelError, OptionError, StoreError, StoreMismatchError
from .labeler import ActiveLabeler
from .multisession import MultiLabelSession
from .session import LabelingSession
from .weak import keywords, labeling_function, regex

__all__ = [
    "ActiveLabeler",
    "LabelingSession",
    "MultiLabelSession",
    "labeling_function",
    "keywords",
    "regex",
    "ActiveLabelError",
    "DataError",
    "LabelError",
    "ModelError",
    "OptionError",
    "StoreError",
    "StoreMismatchError",
]
__version__ = "0.1.0"
