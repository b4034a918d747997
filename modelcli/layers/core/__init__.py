from .dense import Dense
from .input_layer import Input, InputLayer
