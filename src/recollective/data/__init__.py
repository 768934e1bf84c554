"""Real and synthetic interaction data: ``Interactions``, vocabularies, loaders, preprocessing, targets, worlds."""

from recollective.data._interactions import DUPLICATE_POLICIES, Delta, Interactions
from recollective.data._vocabulary import Vocabulary

__all__ = ["DUPLICATE_POLICIES", "Delta", "Interactions", "Vocabulary"]
