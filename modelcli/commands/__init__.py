"""One module per CLI command, each with a ``run(...)`` function that ``modelcli.cli`` calls.

They import torch and the model code inside ``run``, so ``modelcli --help`` stays fast.
"""
