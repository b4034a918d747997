from .activation import Activation
from .dense import Dense
from .embedding import Embedding
from .identity import Identity
from .input_layer import Input, InputLayer
from .masking import Masking
from .reversible_embedding import ReversibleEmbedding
