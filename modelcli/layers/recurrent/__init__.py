"""Recurrent layers: SimpleRNN, LSTM, GRU (and their cells), ConvLSTM1D/2D/3D, the generic RNN,
StackedRNNCells, Bidirectional and TimeDistributed."""
from .bidirectional import Bidirectional
from .conv_lstm1d import ConvLSTM1D
from .conv_lstm2d import ConvLSTM2D
from .conv_lstm3d import ConvLSTM3D
from .gru import GRU, GRUCell
from .lstm import LSTM, LSTMCell
from .rnn import RNN
from .simple_rnn import SimpleRNN, SimpleRNNCell
from .stacked_rnn_cells import StackedRNNCells
from .time_distributed import TimeDistributed

__all__ = ["Bidirectional", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "GRU", "GRUCell", "LSTM", "LSTMCell", "RNN",
           "SimpleRNN", "SimpleRNNCell", "StackedRNNCells", "TimeDistributed"]
