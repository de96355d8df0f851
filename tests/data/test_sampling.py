"""EpochSampler: each epoch's draw, split into disjoint equal shards between processes."""

import pytest
import torch

from s4ts.data import sampling
from s4ts.data.sampling import EpochSampler


def _shards(sampler, world, monkeypatch):
    out = []
    for rank in range(world):
        monkeypatch.setattr(sampling, "process_rank", lambda rank=rank: (rank, world))
        out.append(list(sampler))
    return out


def test_one_process_draws_num_samples_distinct_examples():
    sampler = EpochSampler(100, 40, seed=3)
    drawn = list(sampler)
    assert len(drawn) == len(sampler) == 40 and len(set(drawn)) == 40
    assert list(sampler) == drawn  # the same epoch draws the same order
    sampler.set_epoch(1)
    assert list(sampler) != drawn


def test_more_samples_than_examples_cycle_through_permutations():
    drawn = list(EpochSampler(10, 25, seed=0))
    assert len(drawn) == 25 and sorted(drawn[:10]) == list(range(10)) and sorted(drawn[10:20]) == list(range(10))


@pytest.mark.parametrize(("n", "num_samples", "world"), [(100, 40, 2), (7, 7, 2), (50, 31, 3), (1, 1, 2)])
def test_processes_take_disjoint_equal_shards_of_the_draw(monkeypatch, n, num_samples, world):
    sampler = EpochSampler(n, num_samples, seed=1)
    shards = _shards(sampler, world, monkeypatch)
    assert len({len(s) for s in shards}) == 1  # equal lengths: processes step together
    assert len(shards[0]) == len(sampler)
    order = sampler.epoch_order().tolist()
    together = [i for s in shards for i in s]
    assert set(together) == set(order)
    if num_samples % world == 0:  # no padding: the shards partition the draw
        assert sorted(together) == sorted(order)


def test_no_examples_is_refused():
    with pytest.raises(ValueError, match="no examples"):
        EpochSampler(0)


def test_weighted_draw_follows_the_weights_and_is_the_same_in_every_process(monkeypatch):
    weights = torch.tensor([1.0, 0.0, 3.0, 4.0])
    sampler = EpochSampler(4, 16_000, seed=2, weights=weights)
    drawn = torch.tensor(list(sampler))
    shares = torch.bincount(drawn, minlength=4) / len(drawn)
    assert torch.allclose(shares, weights / weights.sum(), atol=0.015)  # sd of a share < 0.004
    assert list(sampler) == drawn.tolist()  # reproducible within an epoch
    sampler.set_epoch(1)
    assert list(sampler) != drawn.tolist()
    shards = _shards(EpochSampler(4, 10, seed=2, weights=weights), 2, monkeypatch)
    assert len(shards[0]) == len(shards[1]) == 5 and 1 not in shards[0] + shards[1]


@pytest.mark.parametrize("weights", [torch.ones(3), torch.tensor([1.0, -1, 1, 1]), torch.zeros(4)])
def test_bad_weights_are_refused(weights):
    with pytest.raises(ValueError, match=r"weights must be \(4,\), non-negative"):
        EpochSampler(4, weights=weights)
