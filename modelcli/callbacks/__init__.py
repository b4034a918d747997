"""Keras's callbacks for ``fit``: hooks with Keras's names, and the built-in callbacks.

``modelcli.callbacks.get`` / ``deserialize`` build one from a config entry such as
``{"class_name": "EarlyStopping", "config": {"monitor": "val_loss", "patience": 3}}``.
"""
from .backup_and_restore import BackupAndRestore
from .callback import Callback, CallbackList
from .csv_logger import CSVLogger
from .deserialize import deserialize, get, serialize
from .early_stopping import EarlyStopping
from .history import History
from .lambda_callback import LambdaCallback
from .learning_rate_scheduler import LearningRateScheduler
from .model_checkpoint import ModelCheckpoint
from .monitor_callback import MonitorCallback
from .progbar_logger import ProgbarLogger
from .reduce_lr_on_plateau import ReduceLROnPlateau
from .registry import CALLBACKS
from .tensorboard import MissingDependencyError, TensorBoard
from .terminate_on_nan import TerminateOnNaN

__all__ = ["BackupAndRestore", "CALLBACKS", "CSVLogger", "Callback", "CallbackList", "EarlyStopping", "History",
           "LambdaCallback", "LearningRateScheduler", "MissingDependencyError", "ModelCheckpoint",
           "MonitorCallback", "ProgbarLogger", "ReduceLROnPlateau", "TensorBoard", "TerminateOnNaN",
           "deserialize", "get", "serialize"]
