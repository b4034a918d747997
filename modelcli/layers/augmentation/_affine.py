"""Affine resampling of image batches with the pixel maths of Keras's torch backend
(``keras.ops.image.affine_transform``), shared by RandomRotation, RandomZoom and
RandomTranslation; RandomPerspective, whose points are not affine, uses ``resample`` alone.

A transform is six numbers per image, ``[a0, a1, a2, b0, b1, b2]``: the output pixel
at column x, row y reads the input at the point

    x' = a0·x + a1·y + a2        y' = b0·x + b1·y + b2

``bilinear`` blends the four integer neighbours of (x', y') with weights
(1 - frac, frac) along each axis; ``nearest`` reads round-half-to-even(x', y').
A neighbour that falls outside the image is brought back by ``fill_mode``, index by
index (reflect: d c b a | a b c d | d c b a; wrap: a b c d | a b c d | a b c d;
nearest: a a a a | a b c d | d d d d), or with ``constant`` reads ``fill_value``.
Keras fixes each neighbour's index rather than the point itself, so the neighbours
are gathered here: ``grid_sample``'s padding modes move the point and give other
values next to the border (and it has no wrap).
"""
from __future__ import annotations

import torch

from ._base import ImageAugmentation, number, one_of

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")


def affine_transform(images, transform, interpolation, fill_mode, fill_value):
    """``images`` (N, H, W, C), ``transform`` (N, 6): the resampled batch, in the images' dtype."""
    n, height, width, _ = images.shape
    t = transform.to(device=images.device, dtype=torch.float32)
    a0, a1, a2, b0, b1, b2 = (t[:, i].view(n, 1, 1) for i in range(6))
    rows = torch.arange(height, dtype=torch.float32, device=images.device).view(1, height, 1)
    cols = torch.arange(width, dtype=torch.float32, device=images.device).view(1, 1, width)
    y = rows * b1 + cols * b0 + b2
    x = rows * a1 + cols * a0 + a2
    return resample(images, x, y, interpolation, fill_mode, fill_value)


def resample(images, x, y, interpolation, fill_mode, fill_value):
    """``images`` (N, H, W, C) read at the float32 points (``x``, ``y``), each (N, H, W): output
    pixel [n, i, j] is input image n at (x[n, i, j], y[n, i, j]), by the rules of the module doc."""
    n, height, width, _ = images.shape
    batch = torch.arange(n, device=images.device).view(n, 1, 1)

    def read(iy, ix):
        value = images[batch, _fix(iy, height, fill_mode), _fix(ix, width, fill_mode)]
        if fill_mode == "constant":
            inside = (iy >= 0) & (iy < height) & (ix >= 0) & (ix < width)
            # a Python scalar, not a new tensor: no host-to-device copy (which a CUDA graph capture refuses)
            value = torch.where(inside.unsqueeze(-1), value, float(fill_value))
        return value

    if interpolation == "nearest":
        out = read(torch.round(y).long(), torch.round(x).long())
    else:
        y0, x0 = torch.floor(y), torch.floor(x)
        wy1, wx1 = y - y0, x - x0
        wy0, wx0 = 1 - wy1, 1 - wx1
        iy0, ix0 = y0.long(), x0.long()
        # Keras's summation order: (y0, x0), (y0, x1), (y1, x0), (y1, x1).
        out = None
        for iy, wy in ((iy0, wy0), (iy0 + 1, wy1)):
            for ix, wx in ((ix0, wx0), (ix0 + 1, wx1)):
                term = (wy * wx).unsqueeze(-1) * read(iy, ix)
                out = term if out is None else out + term
    return out.to(images.dtype)


def _fix(index, size, fill_mode):
    """An integer index brought inside [0, size) the way ``fill_mode`` extends the image."""
    if fill_mode == "wrap":
        return torch.remainder(index, size)
    if fill_mode == "reflect":
        # Period 2·size: the image, then its mirror image (the edge pixel repeated).
        folded = torch.remainder(index, 2 * size)
        return torch.where(folded >= size, 2 * size - 1 - folded, folded)
    return index.clamp(0, size - 1)  # nearest; constant masks these reads afterwards


class AffineAugmentation(ImageAugmentation):
    """A layer that resamples each image through a random affine transform (see the module doc)."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.fill_mode = one_of(fill_mode, FILL_MODES, "fill_mode")
        self.interpolation = one_of(interpolation, INTERPOLATIONS, "interpolation")
        self.fill_value = number(fill_value, "fill_value")

    def augment(self, images):
        return affine_transform(images, self.random_transform(images), self.interpolation,
                                self.fill_mode, self.fill_value)

    def random_transform(self, images):
        """(N, 6) float32 transforms, one drawn per image of the channels_last batch."""
        raise NotImplementedError(type(self).__name__)

    def get_config(self):
        return {**super().get_config(), "fill_mode": self.fill_mode, "fill_value": self.fill_value,
                "interpolation": self.interpolation}
