import numpy as np


def test_large_numpy_unicode_ids_encode_through_chunked_arrow_arrays():
    """pyarrow converts a large numpy unicode array into a ChunkedArray; the encoding must still work."""
    from recollective.data._vocabulary import encode_ids

    values = np.char.add(np.arange(3_000_000).astype(str), "#")
    ids, idx = encode_ids(values)
    assert ids.size == 3_000_000
    np.testing.assert_array_equal(ids[idx[:5]], values[:5])
