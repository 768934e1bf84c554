"""pyarrow arrays as numpy arrays without importing pandas (which ``Array.to_numpy`` does, costing time and
memory in every loader)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["to_numpy"]

_FLOATS = {"halffloat": "float16", "float": "float32", "double": "float64"}


def to_numpy(array: pa.Array) -> np.ndarray:
    """A pyarrow array as an ndarray without importing pandas (which ``Array.to_numpy`` does): zero-copy for
    numbers without nulls, Python objects for strings; nulls become NaN (numbers) or None."""
    if isinstance(array, pa.ChunkedArray):
        pieces = [to_numpy(chunk) for chunk in array.chunks]
        return np.concatenate(pieces) if len(pieces) != 1 else pieces[0]
    kind = array.type
    if (pa.types.is_integer(kind) or pa.types.is_floating(kind)) and array.null_count == 0:
        dtype = np.dtype(_FLOATS.get(str(kind), str(kind)))
        return np.frombuffer(array.buffers()[1], dtype=dtype, count=len(array), offset=array.offset * dtype.itemsize)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return to_numpy(array.cast(pa.float64()).fill_null(np.nan))
    if pa.types.is_boolean(kind) and array.null_count == 0:
        return to_numpy(pc.cast(array, pa.uint8())).astype(bool)
    return np.array(array.to_pylist(), dtype=object)
