"""CenterCrop: the central ``(height, width)`` window of each image.

The window starts ``(h - height) // 2`` rows and ``(w - width) // 2`` columns in,
so an odd margin leaves the extra row or column after the window. An image
smaller than the target on either side is not padded: as in Keras, the largest
centred window of the target aspect ratio is resized (bilinearly) to the target.
The output is in the compute dtype (float32), whatever the input's dtype.
"""
from __future__ import annotations

from ... import backend
from ..registry import register_layer
from ._image import ImageLayer, resize_images


@register_layer("CenterCrop")
class CenterCrop(ImageLayer):
    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(height, width, data_format=data_format, **kwargs)

    def call(self, inputs):
        x = inputs.to(backend.torch_dtype(self.compute_dtype))
        h_axis, w_axis = self.image_axes(x.dim())
        height, width = x.shape[h_axis], x.shape[w_axis]
        if height < self.height or width < self.width:
            return resize_images(x, (self.height, self.width), "bilinear", self.data_format,
                                 crop_to_aspect_ratio=True)
        top, left = (height - self.height) // 2, (width - self.width) // 2
        return x.narrow(h_axis, top, self.height).narrow(w_axis, left, self.width)
