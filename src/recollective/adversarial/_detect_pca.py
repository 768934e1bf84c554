"""PCA-VarSelect (Mehta & Nejdl 2009): shilling profiles contribute least to the top principal components.

Reference: B. Mehta and W. Nejdl, "Unsupervised strategies for shilling detection and robust collaborative
filtering", User Modeling and User-Adapted Interaction 19 (2009) 65-97.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from recollective._random import as_generator
from recollective.adversarial._detectors import Detector, least_suspicious_for_empty
from recollective.data import Interactions
from recollective.data._worlds import truncated_svd
from recollective.models._params import Integer, Seed

__all__ = ["PCAVarSelectDetector", "gram_loadings", "user_zscores"]

DENSE_SVD_MAX_CELLS = 1_000_000
"""Up to this many matrix cells (n_users x n_items) the loadings come from an exact dense eigen-decomposition of
the smaller Gram matrix (:func:`gram_loadings`); above it, from ``svds(solver="propack")`` on the sparse matrix,
so 10k x 10k data never builds a dense matrix."""


def user_zscores(interactions: Interactions) -> sp.csr_array:
    """Each user's ratings z-scored over the items that user rated.

    ``z[u, i] = (r[u, i] - mean_u) / std_u`` on rated items (``mean_u``, ``std_u``: the user's mean and
    population standard deviation over the items they rated), 0 elsewhere; a constant profile (``std_u = 0``,
    e.g. a single rating, or implicit data) is all zeros.

    Returns
    -------
    csr_array of shape (n_users, n_items)
        Same sparsity pattern as ``interactions.matrix`` (explicit zeros kept).
    """
    matrix = interactions.matrix
    counts = np.diff(matrix.indptr)
    rows = np.repeat(np.arange(matrix.shape[0]), counts)
    n = np.maximum(counts, 1)
    means = np.bincount(rows, weights=matrix.data, minlength=matrix.shape[0]) / n
    centred = matrix.data - means[rows]
    stds = np.sqrt(np.bincount(rows, weights=centred**2, minlength=matrix.shape[0]) / n)
    scale = np.divide(1.0, stds, out=np.zeros_like(stds), where=stds > 1e-12 * np.maximum(1.0, np.abs(means)))
    return sp.csr_array((centred * scale[rows], matrix.indices.copy(), matrix.indptr.copy()), shape=matrix.shape)


class PCAVarSelectDetector(Detector):
    """PCA-VarSelect: users whose z-scored profiles load least on the top principal components are suspicious.

    Users are the *variables* and items the observations. Each user's ratings are z-scored over the items they
    rated (:func:`user_zscores`; unrated = 0), so every user's row of ``Z`` (n_users x n_items) sums to zero and
    the user-user covariance is ``C = Z Z^T / (n_items - 1)``. Its top ``n_components`` eigenvectors are the top
    left singular vectors ``U`` of ``Z``; a user's *loading* on component ``c`` is ``U[u, c]`` (unit-norm
    eigenvectors). Genuine users, whose tastes co-vary, carry the leading components; shilling profiles (fillers
    near the item means, one extreme target) co-vary with nobody and load little. The score is

        ``score[u] = - sum_{c < n_components} U[u, c] ** 2``     (in [-1, 0]; higher = more suspicious)

    Users with no interaction get the minimum score of the others (least suspicious); constant profiles have
    zero loadings and hence the highest score, as in the paper.

    Parameters
    ----------
    n_components : int, default 3
        Principal components used (>= 1; capped at ``min(n_users, n_items)``).
    rng : int, Generator or None, default 0
        Seeds the Lanczos start vector of ``svds`` (used above :data:`DENSE_SVD_MAX_CELLS`).
    """

    name = "pca"
    parameter_rules: ClassVar[dict] = {"n_components": Integer(low=1), "rng": Seed()}

    def __init__(self, n_components=3, rng=0):
        self.n_components = n_components
        self.rng = rng

    def loadings(self, interactions: Interactions) -> np.ndarray:
        """``U``: the users' loadings on the top components, ``ndarray of shape (n_users, n_components)``."""
        params = self.checked_params()
        self._check_interactions(interactions)
        return self._loadings(interactions, params)

    def _loadings(self, interactions: Interactions, params: dict) -> np.ndarray:
        z = user_zscores(interactions)
        n = min(params["n_components"], *z.shape)
        if n == 0 or not np.any(z.data):
            return np.zeros((z.shape[0], n))
        if z.shape[0] * z.shape[1] <= DENSE_SVD_MAX_CELLS or n >= min(z.shape) - 1:
            return gram_loadings(z, n)
        u, _, _ = truncated_svd(z, n, as_generator(params["rng"]))
        return u

    def _score(self, interactions: Interactions, params: dict) -> np.ndarray:
        u = self._loadings(interactions, params)
        scores = -np.sum(u**2, axis=1)
        return least_suspicious_for_empty(scores, np.diff(interactions.matrix.indptr))


def gram_loadings(z: sp.csr_array, n_components: int) -> np.ndarray:
    """The top ``n_components`` left singular vectors of ``z`` from ``numpy.linalg.eigh`` of the smaller Gram matrix.

    With ``n_users <= n_items`` the eigenvectors of ``Z Z^T`` (n_users x n_users) are the left singular vectors
    themselves; otherwise ``V`` comes from ``Z^T Z`` (n_items x n_items) and ``U = Z V / s`` (a column whose
    singular value is below ``1e-10`` of the largest is 0). The Gram matrix is at most ``min(n_users, n_items)``
    squared, so this is exact and fast for the small data it is used on (a dense LAPACK SVD can stall for
    seconds on some rank-deficient 300 x 120 matrices). Each column's sign is fixed so that its entry of largest
    magnitude is positive (scores use squared loadings, so the sign never matters to them).

    Returns
    -------
    ndarray of shape (n_users, n_components)
        Unit-norm columns, by decreasing singular value.
    """
    n_users, n_items = z.shape
    with threadpool_limits(1, "blas"):  # small: one thread is fastest and immune to oversubscription
        if n_users <= n_items:
            gram = (z @ z.T).toarray()
            _, vectors = np.linalg.eigh(gram)
            u = vectors[:, ::-1][:, :n_components]
        else:
            gram = (z.T @ z).toarray()
            values, vectors = np.linalg.eigh(gram)
            values, vectors = values[::-1][:n_components], vectors[:, ::-1][:, :n_components]
            singular = np.sqrt(np.clip(values, 0.0, None))
            keep = singular > 1e-10 * max(float(singular[0]), 1e-300)
            u = np.zeros((n_users, n_components))
            u[:, keep] = (z @ vectors[:, keep]) / singular[keep]
    flip = np.sign(u[np.argmax(np.abs(u), axis=0), np.arange(u.shape[1])])
    return u * np.where(flip == 0, 1.0, flip)
