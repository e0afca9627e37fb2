"""Uncertainty from one model's class probabilities, and disagreement within a committee.

Every function here is pure: it reads arrays and returns a new one.
"""

import numpy as np

__all__ = [
    "at_label_mix",
    "as_proba",
    "confidence",
    "margin_uncertainty",
    "least_confident_uncertainty",
    "committee_disagreement",
]


def as_proba(proba, *, name="proba"):
    """A clean float64 copy of class probabilities with rows that sum to one.

    Parameters
    ----------
    proba : array-like of shape (n, K)
        Non-negative class scores per row. ``nan`` and negative entries count as 0; a row
        with nothing left becomes uniform (the model knows nothing about it).
    name : str
        Used in error messages.

    Returns
    -------
    p : ndarray of shape (n, K), float64
        A new array; the input is never modified.
    """
    p = np.array(proba, dtype=np.float64, copy=True)
    if p.ndim != 2:
        raise ValueError(f"{name} must have shape (n_rows, n_classes), got {p.shape}; "
                         "pass model.predict_proba(X) for the pool.")
    if p.shape[1] == 0:
        raise ValueError(f"{name} has no class columns; a fitted model has at least one class.")
    p[~np.isfinite(p)] = 0.0
    np.clip(p, 0.0, None, out=p)
    total = p.sum(axis=1, keepdims=True)
    empty = total[:, 0] <= 0.0
    if empty.any():
        p[empty] = 1.0
        total[empty] = p.shape[1]
    p /= total
    return p


def at_label_mix(proba, label_counts):
    """Probabilities of a model fitted with balanced class weights, moved to its labels' class mix.

    Balanced class weights fit a model as if every class were equally frequent among the labels.
    Multiplying each row by the classes' shares among the labels (one added to every count) and
    renormalising gives the probabilities at the labels' own mix: the prior-shift correction of
    Saerens, Latinne and Decaestecker (2002), which estimates what a model without class weights
    fitted on the same labels would say, from the same fit.

    Parameters
    ----------
    proba : array-like of shape (n, K)
        Class probabilities of the balanced model.
    label_counts : array-like of shape (K,)
        Labeled examples per class, in the columns' order.

    Returns
    -------
    p : ndarray of shape (n, K), float64
        A new array with rows that sum to one.

    Examples
    --------
    >>> at_label_mix([[0.5, 0.5], [0.9, 0.1]], [8, 0]).round(3).tolist()
    [[0.9, 0.1], [0.988, 0.012]]
    """
    p = as_proba(proba)
    counts = np.asarray(label_counts, dtype=np.float64)
    if counts.shape != (p.shape[1],) or not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise ValueError(f"label_counts must hold one count (>= 0) per class column ({p.shape[1]}), "
                         f"got {np.asarray(label_counts)!r}.")
    p *= (counts + 1.0) / (counts.sum() + counts.size)
    p /= p.sum(axis=1, keepdims=True)  # every factor is positive and every row of p sums to one
    return p


def confidence(proba):
    """How sure a model is of each row: ``1 - entropy(p) / log(K)``.

    Parameters
    ----------
    proba : array-like of shape (n, K)
        Class probabilities. Rows are renormalised; ``nan`` and negative entries count as 0
        and ``0 * log(0)`` is taken as 0.

    Returns
    -------
    confidence : ndarray of shape (n,), float64, in [0, 1]
        0 at an even split over the K classes, 1 when one class has all the mass.
        With a single class (``K == 1``) every row is 1.0. Lower means "ask sooner"
        (the ``confidence`` strategy scores ``1 - confidence``).

    Examples
    --------
    >>> confidence([[0.5, 0.5], [1.0, 0.0]])
    array([0., 1.])
    """
    p = as_proba(proba)
    n, k = p.shape
    if k == 1:
        return np.ones(n, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0.0, p * np.log(p), 0.0)
    entropy = -plogp.sum(axis=1)
    return np.clip(1.0 - entropy / np.log(k), 0.0, 1.0)


def margin_uncertainty(proba):
    """``1 - (p_first - p_second)``: close to 1 when the two best classes are tied.

    Parameters
    ----------
    proba : array-like of shape (n, K)

    Returns
    -------
    uncertainty : ndarray of shape (n,), float64, in [0, 1]
        Higher means "ask sooner". With ``K == 1`` the second class has probability 0, so
        every row scores 0.
    """
    p = as_proba(proba)
    if p.shape[1] == 1:
        return np.zeros(p.shape[0], dtype=np.float64)
    two = -np.partition(-p, 1, axis=1)[:, :2]
    return 1.0 - (two[:, 0] - two[:, 1])


def least_confident_uncertainty(proba):
    """``1 - max_k p_k``: how much probability the predicted class leaves to the others.

    Parameters
    ----------
    proba : array-like of shape (n, K)

    Returns
    -------
    uncertainty : ndarray of shape (n,), float64, in [0, 1 - 1/K]
        Higher means "ask sooner".
    """
    p = as_proba(proba)
    return 1.0 - p.max(axis=1)


_KL_TIE_BREAK = 1e-3


def committee_disagreement(committee_proba):
    """Vote entropy of a committee, ties broken by the mean KL divergence to its consensus.

    Parameters
    ----------
    committee_proba : array-like of shape (m, n, K)
        Class probabilities from ``m`` models over the same ``n`` rows and ``K`` classes
        (columns in the same class order for every member).

    Returns
    -------
    disagreement : ndarray of shape (n,), float64, >= 0
        ``H(votes) + 0.001 * mean_j KL(p_j || mean_j p_j)``, where ``H(votes)`` is the
        entropy of the members' predicted classes (Dagan and Engelson, 1995) and the KL term
        (McCallum and Nigam, 1998; at most ``log m``) only orders rows with the same vote
        split. 0 when all members agree with the same probabilities; higher means "ask
        sooner". Hard votes are used first because the soft KL alone favours rows where a
        few overconfident members stray, which tested far worse in simulations.
    """
    c = np.array(committee_proba, dtype=np.float64, copy=True)
    if c.ndim != 3:
        raise ValueError("committee_proba must have shape (n_models, n_rows, n_classes), "
                         f"got {c.shape}; stack each member's predict_proba output.")
    m, n, k = c.shape
    members = as_proba(c.reshape(m * n, k), name="committee_proba").reshape(m, n, k)
    votes = members.argmax(axis=2)  # (m, n)
    counts = np.bincount((np.arange(n)[None, :] * k + votes).ravel(),
                         minlength=n * k).reshape(n, k)
    share = counts / float(m)
    with np.errstate(divide="ignore", invalid="ignore"):
        vote_entropy = -np.where(share > 0.0, share * np.log(share), 0.0).sum(axis=1)
        consensus = members.mean(axis=0)
        ratio = np.where(members > 0.0, members * np.log(members / consensus), 0.0)
    kl = np.clip(ratio.sum(axis=2).mean(axis=0), 0.0, None)
    return np.clip(vote_entropy, 0.0, None) + _KL_TIE_BREAK * kl
