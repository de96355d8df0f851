"""EpochSampler: each epoch's draw, split into disjoint equal shards between processes."""

import pytest

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
