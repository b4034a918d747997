"""RandomPerspective: while training, warps some images through a random projective transform.

Per image, a probability p is drawn from ``factor`` (within [0, 1]; a number f means
[0, f]) and the image is warped when a second draw u in [0, 1) falls below p, so the
default factor 1.0 warps about half of the images. The warp moves the image's corners
s = (0, 0), (W - 1, 0), (0, H - 1), (W - 1, H - 1), given as (x, y), to e = s + s·d,
with one offset d drawn from [-scale/2, scale/2] per corner coordinate: every
coordinate is scaled by 1 + d, so (as in Keras) the top-left corner never moves and
the others move along the edges they lie on only.

The eight numbers h of the homography taking e back onto s solve the linear system of
the four corner pairs (x_s·(h6·x_e + h7·y_e + 1) = h0·x_e + h1·y_e + h2, likewise
for y_s with h3, h4, h5), and the output pixel (x, y) reads the input at

    x' = (h0·x + h1·y + h2) / (h6·x + h7·y + 1)
    y' = (h3·x + h4·y + h5) / (h6·x + h7·y + 1)

resampled with ``interpolation``, reading ``fill_value`` off the image (``_affine``'s
``constant`` fill: Keras offers no other here). Integer images come out in the compute
dtype, as in Keras.
"""
from __future__ import annotations

import torch

from ...errors import SpecError
from ..registry import register_layer
from ._affine import INTERPOLATIONS, resample
from ._base import is_number, number, one_of
from ._color import ColorAugmentation, as_images_param, keras_factor


def homography(start_points, end_points):
    """(N, 8) float32 h per image, from (N, 4, 2) corner points: h maps ``end_points`` onto
    ``start_points`` (see the module doc). The system's rows are Keras's: corner by corner, x then y."""
    start, end = start_points.float(), end_points.float()
    xs, ys = start.unbind(-1)
    xe, ye = end.unbind(-1)
    one, zero = torch.ones_like(xe), torch.zeros_like(xe)
    x_rows = torch.stack([xe, ye, one, zero, zero, zero, -xs * xe, -xs * ye], dim=-1)
    y_rows = torch.stack([zero, zero, zero, xe, ye, one, -ys * xe, -ys * ye], dim=-1)
    system = torch.stack([x_rows, y_rows], dim=2).reshape(-1, 8, 8)
    target = torch.stack([xs, ys], dim=2).reshape(-1, 8, 1)
    # solve_ex: no host round trip to check for a singular system, which a CUDA graph capture refuses
    return torch.linalg.solve_ex(system, target)[0].reshape(-1, 8)


@register_layer("RandomPerspective")
class RandomPerspective(ColorAugmentation):
    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_value=0.0, seed=None,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = keras_factor(factor, (0, 1), "factor")
        if not (is_number(scale) and 0 <= scale <= 1):
            raise SpecError(f"expected a number in [0, 1], got {scale!r}", where="scale")
        self.scale = scale
        self.interpolation = one_of(interpolation, INTERPOLATIONS, "interpolation")
        self.fill_value = number(fill_value, "fill_value")

    def augment(self, images):
        _, height, width, _ = images.shape
        if height < 2 or width < 2:  # the corners coincide: no homography (Keras's solver fails too)
            raise SpecError(f"RandomPerspective needs images at least 2 pixels high and wide, got "
                            f"{height}×{width}", where=self.name)
        return super().augment(images)

    def random_params(self, images):
        """Per image: ``apply_perspective`` (N,) bools, ``start_points`` and ``end_points`` (N, 4, 2)."""
        n, height, width, _ = images.shape
        probability = self._per_image(images, *self.factor)
        apply = self._per_image(images, 0.0, 1.0) < probability
        offsets = self._uniform((n, 4, 2), -0.5 * self.scale, 0.5 * self.scale, images)
        corner = torch.arange(4, device=images.device)  # built on the device: no host copy
        start = torch.stack([corner % 2 * (width - 1), corner // 2 * (height - 1)], dim=1).float()
        start = start.expand(n, 4, 2)
        return {"apply_perspective": apply, "start_points": start, "end_points": start + start * offsets}

    def apply(self, images, params):
        h = homography(torch.as_tensor(params["start_points"], device=images.device),
                       torch.as_tensor(params["end_points"], device=images.device))
        _, height, width, _ = images.shape
        h0, h1, h2, h3, h4, h5, h6, h7 = (h[:, i].view(-1, 1, 1) for i in range(8))
        cols = torch.arange(width, dtype=torch.float32, device=images.device).view(1, 1, width)
        rows = torch.arange(height, dtype=torch.float32, device=images.device).view(1, height, 1)
        denominator = h6 * cols + h7 * rows + 1.0
        x = (h0 * cols + h1 * rows + h2) / denominator
        y = (h3 * cols + h4 * rows + h5) / denominator
        warped = resample(images, x, y, self.interpolation, "constant", self.fill_value)
        return torch.where(as_images_param(params["apply_perspective"], images), warped, images)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "scale": self.scale,
                "interpolation": self.interpolation, "fill_value": self.fill_value}
