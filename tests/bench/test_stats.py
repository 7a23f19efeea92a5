"""bench.stats: one percentile and one commit for every benchmark."""

import math

from bench.stats import git_commit, percentile


def test_percentile_is_nearest_rank() -> None:
    sample = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(sample, 0.5) == 50.0
    assert percentile(sample, 0.95) == 95.0
    assert percentile(sample, 0.99) == 99.0
    assert percentile(sample, 1.0) == 100.0
    assert percentile([7.0, 1.0, 3.0], 0.0) == 1.0  # unsorted input, lowest rank


def test_percentile_of_nothing_is_nan() -> None:
    assert math.isnan(percentile([], 0.95))


def test_git_commit_is_the_checked_out_short_hash() -> None:
    commit = git_commit()
    assert commit is not None and 7 <= len(commit) <= 12
    assert all(c in "0123456789abcdef" for c in commit)
