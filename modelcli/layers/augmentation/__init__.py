"""Image augmentation layers: random transforms while training, as in Keras's image preprocessing."""
from .auto_contrast import AutoContrast
from .equalization import Equalization
from .random_brightness import RandomBrightness
from .random_color_degeneration import RandomColorDegeneration
from .random_color_jitter import RandomColorJitter
from .random_contrast import RandomContrast
from .random_crop import RandomCrop
from .random_erasing import RandomErasing
from .random_flip import RandomFlip
from .random_gaussian_blur import RandomGaussianBlur
from .random_grayscale import RandomGrayscale
from .random_hue import RandomHue
from .random_invert import RandomInvert
from .random_perspective import RandomPerspective
from .random_posterization import RandomPosterization
from .random_rotation import RandomRotation
from .random_saturation import RandomSaturation
from .random_sharpness import RandomSharpness
from .random_shear import RandomShear
from .random_translation import RandomTranslation
from .random_zoom import RandomZoom
from .solarization import Solarization

__all__ = ["AutoContrast", "Equalization", "RandomBrightness", "RandomColorDegeneration", "RandomColorJitter",
           "RandomContrast", "RandomCrop", "RandomErasing", "RandomFlip", "RandomGaussianBlur", "RandomGrayscale",
           "RandomHue", "RandomInvert", "RandomPerspective", "RandomPosterization", "RandomRotation",
           "RandomSaturation", "RandomSharpness", "RandomShear", "RandomTranslation", "RandomZoom", "Solarization"]
