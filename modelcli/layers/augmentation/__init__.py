"""Image augmentation layers: random transforms while training, as in Keras's image preprocessing."""
from .random_brightness import RandomBrightness
from .random_contrast import RandomContrast
from .random_crop import RandomCrop
from .random_flip import RandomFlip
from .random_rotation import RandomRotation
from .random_translation import RandomTranslation
from .random_zoom import RandomZoom

__all__ = ["RandomBrightness", "RandomContrast", "RandomCrop", "RandomFlip", "RandomRotation",
           "RandomTranslation", "RandomZoom"]
