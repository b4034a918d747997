"""What ``keras.utils`` offers for feeding and reproducing training.

``Sequence`` (``PyDataset``) feeds ``fit`` batch by batch; ``set_random_seed`` makes a
run repeatable; ``to_categorical`` / ``normalize`` prepare targets and inputs;
``pack_x_y_sample_weight`` / ``unpack_x_y_sample_weight`` build and read the
``(x, y, sample_weight)`` tuples a generator yields.
"""
from .numerical import normalize, to_categorical
from .packing import pack_x_y_sample_weight, unpack_x_y_sample_weight
from .random_seed import set_random_seed
from .sequence import PyDataset, Sequence

__all__ = ["PyDataset", "Sequence", "normalize", "pack_x_y_sample_weight", "set_random_seed", "to_categorical",
           "unpack_x_y_sample_weight"]
