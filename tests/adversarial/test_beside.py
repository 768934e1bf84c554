"""``evaluate_beside_attack``: a benign collective and a shilling attack at once, with and without filtering."""

import numpy as np
import pytest

from rare_books import two_rare_books
from recollective.adversarial import Attack, evaluate_beside_attack
from recollective.adversarial._detectors import Detector
from recollective.campaigns import Campaign, evaluate_campaign
from recollective.campaigns._composed import collective_generators
from recollective.models import make_model


class Oracle(Detector):
    """Scores 1 for every user after the first ``n_real`` (the appended fake accounts), 0 for the others."""

    name = "oracle"

    def __init__(self, n_real: int = 0):
        self.n_real = n_real

    def _score(self, interactions, params):
        return (np.arange(interactions.n_users) >= self.n_real).astype(float)


@pytest.fixture(scope="module")
def world():
    train, test = two_rare_books()
    book_a, book_b = (int(i) for i in train.items.numbers(np.array([19, 39])))
    return train, test, book_a, book_b, make_model("itemknn").fit(train)


def test_an_oracle_filter_restores_the_collective_alone(world):
    """Flag exactly the fake accounts: the filtered data are the campaign-alone data (plus empty fake rows), so
    every filtered number equals the campaign-alone number, and no benign participant is flagged."""
    train, test, book_a, book_b, knn = world
    campaign = Campaign(targets=(book_a,), participants="closest", size=15)
    attack = Attack(kind="average", targets=(book_b,), size=16, filler_size=4)
    n_after = train.n_users + 16
    result = evaluate_beside_attack(knn, train, test, campaign, attack, detectors={"oracle": Oracle(train.n_users)},
                                    flag_shares=(16 / n_after,), k=5, rng=3)
    summary, (row,) = result["summary"], result["rows"]
    alone = evaluate_campaign(knn, train, test, campaign, k=5, rng=collective_generators(3, 2)[0]).summary
    assert summary["benign_exposure_benign_alone"] == alone["target_exposure_after"]
    assert summary["benign_exposure_before"] == alone["target_exposure_before"]
    assert summary["n_benign"] == 15 and summary["n_attackers"] == 16
    assert summary["attack_effect_alone"] > 0 and summary["attack_effect_joint"] > 0
    assert row["flagged"] == 16 and row["attackers_flagged_share"] == 1.0 and row["precision"] == 1.0
    assert row["benign_flagged_share"] == 0.0
    assert row["benign_exposure_filtered"] == summary["benign_exposure_benign_alone"]
    assert row["attack_reach_filtered"] == summary["attack_reach_benign_alone"]
    assert row["benign_effect_lost"] == pytest.approx(summary["benign_exposure_joint"] - alone["target_exposure_after"])


def test_real_detectors_give_one_row_per_threshold_with_consistent_numbers(world):
    train, test, book_a, book_b, knn = world
    campaign = Campaign(targets=(book_a,), participants="closest", size=15)
    attack = Attack(kind="random", targets=(book_b,), size=5, filler_size=4)
    result = evaluate_beside_attack(knn, train, test, campaign, attack, detectors=["fraudar", "pca"],
                                    flag_shares=(0.05, 0.2), k=5, rng=0)
    summary, rows = result["summary"], result["rows"]
    assert [(r["detector"], r["flag_share"]) for r in rows] == [("fraudar", 0.05), ("fraudar", 0.2), ("pca", 0.05),
                                                                 ("pca", 0.2)]
    for row in rows:
        assert row["flagged"] == round(row["flag_share"] * (train.n_users + 5))
        assert row["benign_effect_lost"] == pytest.approx(summary["benign_exposure_joint"]
                                                          - row["benign_exposure_filtered"])
        assert row["benign_effect_filtered"] == pytest.approx(row["benign_exposure_filtered"]
                                                              - summary["benign_exposure_before"])
        assert row["n_removed"] > 0
