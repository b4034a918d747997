"""Keras layers on PyTorch, by family (as ``keras.layers`` lays them out).

Importing this package registers every layer class under its Keras name.
"""
from .activations import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .augmentation import *  # noqa: F401,F403
from .categorical import *  # noqa: F401,F403
from .convolutional import *  # noqa: F401,F403
from .core import *  # noqa: F401,F403
from .core import Dense, Input, InputLayer  # noqa: F401
from .merging import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .preprocessing import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403
from .regularization import *  # noqa: F401,F403
from .reshaping import *  # noqa: F401,F403
from ..engine.layer import Layer  # noqa: F401
from .registry import LAYERS  # noqa: F401
from .deserialize import deserialize, serialize  # noqa: F401
