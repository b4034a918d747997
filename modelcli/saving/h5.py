"""Opening HDF5 files with one clear error for anything that is not a readable HDF5 file."""
from __future__ import annotations

import contextlib
import os

from ..errors import WeightsError


@contextlib.contextmanager
def open_h5(source, mode="r", what="weights file"):
    import h5py
    where = source if isinstance(source, (str, os.PathLike)) else None
    if mode == "r" and where is not None and not os.path.exists(source):
        raise WeightsError(f"no such {what}", where=str(source))
    try:
        handle = h5py.File(source, mode)
    except OSError as err:
        raise WeightsError(f"not a readable HDF5 {what} ({_reason(err)})", where=str(where or what),
                           hint="the file may be truncated or of another format") from None
    try:
        yield handle
    finally:
        handle.close()


def _reason(err) -> str:
    text = str(err)
    for marker in ("truncated", "signature", "not a file"):
        if marker in text.lower():
            return text.split("(")[-1].rstrip(")") if "(" in text else text
    return text.splitlines()[0][:120]


def text_attr(value) -> str:
    return value.decode("utf8") if isinstance(value, bytes) else str(value)
