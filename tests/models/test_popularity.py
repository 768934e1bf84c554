from typing import ClassVar

import numpy as np
import pytest

from models.contract import RecommenderContract
from recollective.data import Interactions
from recollective.models import Popularity, make_model


class TestPopularityContract(RecommenderContract):
    model_class = Popularity
    planted = False
    bad_params: ClassVar[list] = [("by", "mean")]


@pytest.mark.parametrize("by", ["count", "sum"])
def test_popularity_ranks_by_count_or_sum(by):
    data = Interactions.from_arrays(np.array([0, 1, 2, 0, 1, 2]), np.array([0, 0, 0, 1, 1, 2]),
                                    np.array([1.0, 1.0, 1.0, 5.0, 5.0, 1.0]))
    model = Popularity(by=by).fit(data)
    expected = [3.0, 2.0, 1.0] if by == "count" else [3.0, 10.0, 1.0]
    np.testing.assert_array_equal(model.item_scores_, expected)
    items, _ = model.recommend(2, k=3, exclude_seen=False)
    np.testing.assert_array_equal(items, np.argsort(-np.array(expected), kind="stable"))


def test_make_model_by_name_and_unknown_name():
    assert isinstance(make_model("popularity", by="sum"), Popularity)
    from recollective.errors import InvalidParameterError

    with pytest.raises(InvalidParameterError, match=r"unknown model 'svd'.*puresvd"):
        make_model("svd")
    with pytest.raises(InvalidParameterError, match="unknown hyper-parameter 'factors'"):
        make_model("popularity", factors=3)
