"""One reader turns every kind of image value into a PIL image, scaled alike and size-capped."""

import io
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from activelabel_widget.images import MAX_DECODED_PIXELS, ImageTooLarge, UnreadableImage, read_image, unit_scale


def pixels(image) -> np.ndarray:
    return np.asarray(image)


def png_claiming(path, width: int, height: int) -> None:
    """A real 1x1 PNG whose header says it is ``width`` x ``height`` (its pixel data is not there)."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))


@pytest.fixture
def no_decoding(monkeypatch):
    """Make decoding a file's pixels fail loudly, to prove a refusal came before it."""
    def refuse(self):
        raise AssertionError("the pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


# -- value scaling ---------------------------------------------------------------------------------
def test_uint8_pixels_are_kept_as_they_are():
    array = np.array([[0, 7], [128, 255]], dtype=np.uint8)
    image = read_image(array)
    assert image.mode == "L" and (pixels(image) == array).all()


@pytest.mark.parametrize(
    "values, expected",
    [
        ([[0.0, 0.5], [1.0, 0.25]], [[0, 127], [255, 63]]),  # [0, 1] floats
        ([[0, 8], [16, 4]], [[0, 127], [255, 63]]),  # 0..16 digit counts
        ([[0.0, 127.5], [255.0, 63.75]], [[0, 127], [255, 63]]),  # 0..255 floats
        ([[-1.0, 0.0], [1.0, np.nan]], [[0, 127], [255, 0]]),  # negative: its own range; NaN is black
        ([[0.0, 0.0], [0.0, 0.0]], [[0, 0], [0, 0]]),  # all black stays black
    ],
)
def test_other_numbers_are_scaled_to_their_own_range_keeping_zero_black(values, expected):
    assert pixels(read_image(np.array(values))).tolist() == expected


def test_sixteen_bit_integers_use_their_range():
    array = np.array([[0, 1000], [2000, 4000]], dtype=np.uint16)
    assert pixels(read_image(array)).tolist() == [[0, 63], [127, 255]]


def test_unit_scale_gives_float32_in_zero_to_one():
    scaled = unit_scale(np.array([[0, 50], [100, np.inf]]))
    assert scaled.dtype == np.float32 and scaled.min() == 0 and scaled.max() == 1
    assert unit_scale(np.array([0, 255], dtype=np.uint8)).tolist() == [0.0, 1.0]
    with pytest.raises(UnreadableImage, match="numbers"):
        unit_scale(np.array(["a", "b"]))


# -- shapes ----------------------------------------------------------------------------------------
def test_a_flat_square_vector_becomes_a_square_image():
    assert read_image(np.arange(64)).size == (8, 8)
    with pytest.raises(UnreadableImage, match="not square"):
        read_image(np.arange(10))


@pytest.mark.parametrize("shape, mode", [((5, 4), "L"), ((5, 4, 1), "L"), ((5, 4, 3), "RGB"), ((5, 4, 4), "RGBA")])
def test_arrays_of_each_shape_become_images(shape, mode):
    image = read_image(np.zeros(shape, dtype=np.uint8))
    assert image.mode == mode and image.size == (4, 5)


@pytest.mark.parametrize("value", [np.zeros((2, 2, 2)), np.zeros((2, 2, 2, 2)), np.float64(3.0), ["a", "b"], object()])
def test_values_that_are_not_images_are_refused_with_a_reason(value):
    with pytest.raises(UnreadableImage) as caught:
        read_image(value)
    assert str(caught.value)


# -- PIL images, files and bytes -------------------------------------------------------------------
def test_a_pil_image_is_copied_not_changed():
    original = Image.new("RGB", (3, 2), "red")
    image = read_image(original)
    image.putpixel((0, 0), (0, 0, 0))
    assert original.getpixel((0, 0)) == (255, 0, 0)


@pytest.mark.parametrize("mode, expected", [("P", "RGBA"), ("1", "L"), ("CMYK", "RGB"), ("LA", "RGBA"), ("I;16", "L"),
                                            ("F", "L")])
def test_every_pil_mode_comes_out_as_l_rgb_or_rgba(mode, expected):
    assert read_image(Image.new(mode, (4, 4))).mode == expected


def test_sixteen_bit_pil_images_are_scaled_like_arrays():
    image = Image.fromarray(np.array([[0, 2000], [4000, 1000]], dtype=np.uint16))
    assert pixels(read_image(image)).tolist() == [[0, 127], [255, 63]]


def test_paths_bytes_and_dataset_dicts_are_read(tmp_path):
    path = tmp_path / "blue.png"
    Image.new("RGB", (6, 3), "blue").save(path)
    for value in (path, str(path), path.read_bytes(), {"bytes": path.read_bytes(), "path": None},
                  {"bytes": None, "path": str(path)}):
        image = read_image(value)
        assert image.size == (6, 3) and image.getpixel((0, 0)) == (0, 0, 255)


def test_missing_broken_and_truncated_files_are_unreadable(tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image at all")
    truncated = tmp_path / "truncated.png"
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8)).save(buffer, "PNG")
    truncated.write_bytes(buffer.getvalue()[:200])
    for value in (tmp_path / "missing.png", broken, truncated, b"\x89PNG\r\n"):
        with pytest.raises(UnreadableImage):
            read_image(value)


# -- the pixel cap ---------------------------------------------------------------------------------
def test_a_file_too_large_is_refused_on_its_header_before_decoding(tmp_path, no_decoding):
    path = tmp_path / "huge.png"
    png_claiming(path, 10_000, 5_000)  # 50 million pixels: above the cap, below Pillow's own
    with pytest.raises(ImageTooLarge) as caught:
        read_image(path)
    error = caught.value
    assert (error.width, error.height, error.pixels, error.limit) == (10_000, 5_000, 50_000_000, MAX_DECODED_PIXELS)
    assert "50,000,000 pixels" in str(error) and "40,000,000" in str(error)
    assert isinstance(error, ValueError)


def test_pillows_decompression_bomb_warning_and_error_become_the_same_refusal(tmp_path, no_decoding):
    warned = tmp_path / "warned.png"
    png_claiming(warned, 10_000, 10_000)  # above Pillow's warning limit
    bomb = tmp_path / "bomb.png"
    png_claiming(bomb, 20_000, 20_000)  # above Pillow's error limit: it refuses before giving the size
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ImageTooLarge) as caught:
            read_image(warned)
        assert caught.value.pixels == 100_000_000
        with pytest.raises(ImageTooLarge) as caught:
            read_image(bomb)
        assert caught.value.pixels is None and "more than" in str(caught.value)


def test_arrays_and_pil_images_are_capped_too():
    huge = np.broadcast_to(np.float64(0.5), (8_000, 6_000))  # a view: no memory spent on it
    with pytest.raises(ImageTooLarge, match="48,000,000 pixels"):
        read_image(huge)
    with pytest.raises(ImageTooLarge):
        read_image(Image.new("L", (30, 30)), max_pixels=899)
    assert read_image(Image.new("L", (30, 30)), max_pixels=900).size == (30, 30)


def _photo(side=640, seed=0) -> np.ndarray:
    """A colour image with a photograph's noise (thousands of colours), which PNG cannot compress."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 1, side)
    base = np.outer(ramp, ramp)[..., None] * np.array([200.0, 150.0, 100.0])
    return (base + rng.normal(0, 20, (side, side, 3))).clip(0, 255).astype(np.uint8)


def test_a_colour_photograph_reaches_the_card_as_jpeg_and_everything_else_as_lossless_png():
    from activelabel_widget.dataset import MAX_IMAGE_SIDE, _card_image_bytes
    from activelabel_widget.images import image_data_url

    photo = _card_image_bytes(_photo())
    assert photo[:3] == b"\xff\xd8\xff" and len(photo) < 200_000  # PNG of it is about 0.55 MB
    assert Image.open(io.BytesIO(photo)).size == (MAX_IMAGE_SIDE, MAX_IMAGE_SIDE)
    assert image_data_url(photo).startswith("data:image/jpeg;base64,")
    grey = _photo()[..., 0]  # a grey scan keeps every level: a medical or scientific image is never lossy
    few_colours = np.zeros((300, 300, 3), dtype=np.uint8)
    few_colours[100:200, 50:250] = (200, 30, 30)  # a diagram, a screenshot
    transparent = Image.fromarray(_photo(200)).convert("RGBA")
    transparent.putpixel((0, 0), (0, 0, 0, 0))
    opaque = Image.fromarray(_photo(200)).convert("RGBA")  # an alpha channel that hides nothing: a photograph
    assert _card_image_bytes(opaque)[:3] == b"\xff\xd8\xff"
    for value in (grey, few_colours, transparent, np.random.default_rng(0).random((8, 8))):
        data = _card_image_bytes(value)
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert image_data_url(data).startswith("data:image/png;base64,")
    lossless = np.asarray(Image.open(io.BytesIO(_card_image_bytes(few_colours))))
    assert (lossless == few_colours).all()


def camera_jpeg(path, width: int = 2048, height: int = 1536) -> np.ndarray:
    """A photograph-like JPEG file; returns its pixels as decoded whole."""
    ramp = np.linspace(0, 1, width)[None, :, None] * np.linspace(0.3, 1, height)[:, None, None]
    noise = np.random.default_rng(0).normal(0, 10, (height, width, 3))
    Image.fromarray((255 * ramp * [0.9, 0.5, 0.2] + noise).clip(0, 255).astype(np.uint8)).save(path, quality=90)
    return pixels(Image.open(path).convert("RGB"))


def test_a_large_jpeg_file_is_decoded_at_a_reduced_scale_never_below_what_the_caller_needs(tmp_path):
    path = tmp_path / "camera.jpg"
    whole = camera_jpeg(path)
    assert read_image(path).size == (2048, 1536)  # no size asked: read whole
    assert read_image(path, at_least=512).size == (1024, 768)  # 1/4 would give 384 < 512 rows
    assert read_image(path.read_bytes(), at_least=100).size == (256, 192)  # 1/8, the smallest JPEG scale
    assert read_image(path, at_least=4096).size == (2048, 1536)
    small = pixels(read_image(path, at_least=512)).astype(float)
    halved = whole.reshape(768, 2, 1024, 2, 3).mean(axis=(1, 3))
    assert np.abs(small - halved).mean() < 4  # the same picture, not a crop or another colour


def test_png_files_are_read_whole_whatever_size_is_asked(tmp_path):
    path = tmp_path / "diagram.png"
    Image.fromarray(np.eye(600, dtype=np.uint8) * 255).save(path)
    assert read_image(path, at_least=16).size == (600, 600)


def test_a_camera_sized_jpeg_reaches_the_card_at_512_px_and_the_model_as_its_thumbnail(tmp_path):
    from activelabel_widget.dataset import _card_image_bytes
    from activelabel_widget.features import THUMBNAIL_SIDE, _thumbnail

    path = tmp_path / "camera.jpg"
    whole = camera_jpeg(path)
    card = Image.open(io.BytesIO(_card_image_bytes(str(path))))
    assert card.format == "JPEG" and card.size == (512, 384)
    expected = Image.fromarray(whole).convert("L").resize((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.BILINEAR)
    thumbnail = _thumbnail(str(path))
    assert np.abs(thumbnail - np.asarray(expected, dtype=np.float32).ravel() / 255).max() < 0.03
