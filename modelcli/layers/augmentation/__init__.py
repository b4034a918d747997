"""Image augmentation layers: random transforms while training, as in Keras's image preprocessing."""
from .auto_contrast import AutoContrast
from .random_brightness import RandomBrightness
from .random_color_degeneration import RandomColorDegeneration
from .random_contrast import RandomContrast
from .random_crop import RandomCrop
from .random_flip import RandomFlip
from .random_grayscale import RandomGrayscale
from .random_hue import RandomHue
from .random_invert import RandomInvert
from .random_posterization import RandomPosterization
from .random_rotation import RandomRotation
from .random_saturation import RandomSaturation
from .random_sharpness import RandomSharpness
from .random_translation import RandomTranslation
from .random_zoom import RandomZoom
from .solarization import Solarization

__all__ = ["AutoContrast", "RandomBrightness", "RandomColorDegeneration", "RandomContrast", "RandomCrop", "RandomFlip",
           "RandomGrayscale", "RandomHue", "RandomInvert", "RandomPosterization", "RandomRotation",
           "RandomSaturation", "RandomSharpness", "RandomTranslation", "RandomZoom", "Solarization"]
