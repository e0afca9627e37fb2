"""Read one image value (array, PIL image, file path or encoded bytes) into a PIL image.

The card and the image features both read images here, so a record looks the same on the card
as it does to the model, and one limit protects both from images too large to decode.

Values are scaled the same way everywhere: ``uint8`` pixels are kept as they are; any other
numbers are scaled to the data's own range, keeping 0 as black (so [0, 1] floats, 0..16 digit
counts, 0..255 floats and 16-bit scans all come out as the user would expect).
"""

from __future__ import annotations

import io
import math
import os
import threading
import warnings

import numpy as np

__all__ = ["MAX_DECODED_PIXELS", "ImageTooLarge", "UnreadableImage", "read_image", "unit_scale", "image_data_url"]

#: Images with more pixels (width x height) than this are refused before they are decoded.
MAX_DECODED_PIXELS = 40_000_000

# Pillow modes that hold numbers rather than display values: scaled like arrays.
_NUMERIC_MODES = ("I", "I;16", "I;16L", "I;16B", "I;16N", "F")
# Pillow modes without an alpha channel that convert to RGB (not RGBA).
_OPAQUE_COLOUR_MODES = ("CMYK", "YCbCr", "LAB", "HSV")
# Pillow's own decompression-bomb warning is changed in a process-wide filter list; one lock
# keeps this module's readers (card and features run in different threads) from interleaving.
_WARNINGS_LOCK = threading.Lock()


class UnreadableImage(ValueError):
    """An image value that cannot be read (unknown format, broken file, wrong array shape...)."""


class ImageTooLarge(UnreadableImage):
    """An image with more pixels than the decoding limit; refused before its pixels are decoded.

    Attributes
    ----------
    width, height : int or None
        The image's size when known (Pillow refuses the largest files before saying their size).
    pixels : int or None
        ``width * height`` when known.
    limit : int
        The most pixels that are decoded.
    """

    def __init__(self, *, width: int | None, height: int | None, limit: int):
        self.width, self.height, self.limit = width, height, limit
        self.pixels = width * height if width is not None and height is not None else None
        super().__init__(
            f"the image is too large to decode ({self.size_text()}; the limit is {limit:,}): "
            "downscale it first, e.g. with PIL's Image.thumbnail"
        )

    def size_text(self) -> str:
        """The size in words, e.g. ``"20,000 x 20,000 = 400,000,000 pixels"``."""
        if self.pixels is None:
            from PIL import Image

            bound = 2 * Image.MAX_IMAGE_PIXELS if Image.MAX_IMAGE_PIXELS else self.limit
            return f"more than {bound:,} pixels"
        return f"{self.width:,} x {self.height:,} = {self.pixels:,} pixels"


def _check_size(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ImageTooLarge(width=width, height=height, limit=max_pixels)


def unit_scale(array) -> np.ndarray:
    """Pixel values scaled to [0, 1] as float32; NaN becomes 0 (black).

    ``uint8`` values are divided by 255. Other numbers are scaled to the data's own range,
    keeping 0 as black: the scale runs from ``min(0, smallest)`` to ``max(1, largest)``
    finite value, so values already in [0, 1] are kept as they are.

    Examples
    --------
    >>> unit_scale(np.array([0, 8, 16])).tolist()
    [0.0, 0.5, 1.0]
    >>> unit_scale(np.array([0.0, 0.25, np.nan])).tolist()
    [0.0, 0.25, 0.0]
    """
    array = np.asarray(array)
    if array.dtype == np.uint8:
        return array.astype(np.float32) / np.float32(255)
    if array.dtype.kind not in "biuf":
        raise UnreadableImage(f"image pixels must be numbers; got an array of dtype {array.dtype}")
    finite = np.isfinite(array) if array.dtype.kind == "f" else True
    # min/max with `initial` give min(0, smallest) and max(1, largest) without copying the pixels
    low = float(array.min(where=finite, initial=0))
    high = float(array.max(where=finite, initial=1))
    scale = (high - low) or 1.0
    scaled = (array.astype(np.float32) - np.float32(low)) / np.float32(scale)
    return np.nan_to_num(scaled, nan=0.0, posinf=1.0, neginf=0.0).clip(0, 1)


def _to_uint8(array: np.ndarray) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    return (unit_scale(array) * 255).astype(np.uint8)


def _from_array(value, max_pixels: int):
    from PIL import Image

    array = np.asarray(value)
    if array.ndim == 1:
        side = math.isqrt(array.size)
        if side * side != array.size:
            raise UnreadableImage(
                f"a flat image of {array.size} values is not square; pass (height, width) arrays"
            )
        array = array.reshape(side, side)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        raise UnreadableImage(
            f"an image array must be (H, W), (H, W, 1), (H, W, 3) or (H, W, 4); got shape {array.shape}"
        )
    _check_size(array.shape[1], array.shape[0], max_pixels)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    return Image.fromarray(np.ascontiguousarray(_to_uint8(array)))


def _displayable_mode(image):
    """``image`` as L, RGB or RGBA (numeric modes scaled like arrays); the input is not changed."""
    from PIL import Image

    if image.mode in ("L", "RGB", "RGBA"):
        return image.copy()
    if image.mode in _NUMERIC_MODES:
        return Image.fromarray(_to_uint8(np.asarray(image)))
    if image.mode == "1":
        return image.convert("L")
    return image.convert("RGB" if image.mode in _OPAQUE_COLOUR_MODES else "RGBA")


def _open(source, max_pixels: int, at_least: int | None = None):
    """Open a file (a path or a binary stream), refusing it on its header size before decoding; a
    JPEG is decoded at the smallest of 1, 1/2, 1/4 or 1/8 of its size that keeps both sides at least
    ``at_least`` (a 12-megapixel photograph shown at 512 px decodes about three times faster)."""
    from PIL import Image

    with _WARNINGS_LOCK, warnings.catch_warnings():
        # the limit below is the one that counts; Pillow's own warning would only repeat it
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            opened = Image.open(source)  # lazy: reads the header, not the pixels
        except Image.DecompressionBombError as error:
            raise ImageTooLarge(width=None, height=None, limit=max_pixels) from error
    with opened:
        _check_size(*opened.size, max_pixels)
        if at_least is not None:
            opened.draft(opened.mode, (at_least, at_least))  # JPEG only; other formats ignore it
        opened.load()
        return _displayable_mode(opened)


def read_image(value, *, max_pixels: int = MAX_DECODED_PIXELS, at_least: int | None = None):
    """Read one image value into a PIL image in mode ``"L"``, ``"RGB"`` or ``"RGBA"``.

    Parameters
    ----------
    value : array-like, PIL.Image.Image, str, os.PathLike, bytes or dict
        An array of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), or a flat vector of a square
        image (e.g. 64 values for 8x8 digits); a PIL image; the path of an image file; the
        encoded bytes of an image file; or a ``{"bytes": ..., "path": ...}`` dict (the form
        Hugging Face ``datasets`` gives images in a DataFrame).
    max_pixels : int, default ``MAX_DECODED_PIXELS``
        Images with more pixels are refused; files are refused on their header, before decoding.
    at_least : int, optional
        The caller shows or uses the image at most this many pixels a side: a JPEG file (path or
        bytes) may then be decoded at 1/2, 1/4 or 1/8 scale, never below ``at_least`` a side.
        Other values are read whole.

    Returns
    -------
    PIL.Image.Image
        A new image; a PIL image passed in is not changed. ``uint8`` arrays are used as they
        are; other numbers are scaled by :func:`unit_scale`.

    Raises
    ------
    ImageTooLarge
        The image has more than ``max_pixels`` pixels.
    UnreadableImage
        The value cannot be read as an image; the message says why. Both are ``ValueError``.

    Examples
    --------
    >>> read_image(np.arange(64).reshape(8, 8)).size
    (8, 8)
    >>> read_image(np.zeros(16, dtype=np.float32)).mode
    'L'
    """
    from PIL import Image

    try:
        if isinstance(value, dict) and ("bytes" in value or "path" in value):
            value = value.get("bytes") or value.get("path")
        if isinstance(value, (bytes, bytearray, memoryview)):
            return _open(io.BytesIO(bytes(value)), max_pixels, at_least)
        if isinstance(value, (str, os.PathLike)):
            return _open(value, max_pixels, at_least)
        if isinstance(value, Image.Image):
            _check_size(*value.size, max_pixels)  # a lazily opened image is not decoded yet
            return _displayable_mode(value)
        return _from_array(value, max_pixels)
    except UnreadableImage:
        raise
    except Exception as error:
        # a decoder can fail in many ways on a broken file (OSError, SyntaxError, EOFError,
        # struct.error...); callers need one error type to show a placeholder instead
        raise UnreadableImage(_describe(error)) from error


def _describe(error: Exception) -> str:
    try:
        detail = str(error)
    except Exception:  # an error whose message cannot be formed is still named
        detail = ""
    return f"{type(error).__name__}: {detail}" if detail else type(error).__name__


def image_data_url(data: bytes) -> str:
    """The card's image bytes (PNG, or JPEG for a photograph) as a ``data:`` URL of the right type."""
    import base64

    mime = "image/png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
