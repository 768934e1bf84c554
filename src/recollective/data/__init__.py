"""Real and synthetic interaction data: ``Interactions``, vocabularies, loaders, preprocessing, targets, worlds."""

from recollective.data._goodbooks import load_goodbooks, read_goodbooks
from recollective.data._goodreads import GOODREADS_ORDER_FIELDS, GOODREADS_SIGNALS, load_goodreads, read_goodreads
from recollective.data._interactions import DUPLICATE_POLICIES, Delta, Interactions
from recollective.data._loading import FORMATS, detect_format, load_interactions, read_interactions
from recollective.data._movielens import load_movielens, read_movielens
from recollective.data._parquet import write_interactions_parquet
from recollective.data._summary import describe, gini, top_share
from recollective.data._tabular import TableSpec, load_table, read_table
from recollective.data._validation import LoadResult
from recollective.data._vocabulary import Vocabulary

__all__ = [
    "DUPLICATE_POLICIES",
    "FORMATS",
    "GOODREADS_ORDER_FIELDS",
    "GOODREADS_SIGNALS",
    "Delta",
    "Interactions",
    "LoadResult",
    "TableSpec",
    "Vocabulary",
    "describe",
    "detect_format",
    "gini",
    "load_goodbooks",
    "load_goodreads",
    "load_interactions",
    "load_movielens",
    "load_table",
    "read_goodbooks",
    "read_goodreads",
    "read_interactions",
    "read_movielens",
    "read_table",
    "top_share",
    "write_interactions_parquet",
]
