"""Planning: runs of one shape share batched jobs, balanced across workers."""

import pytest

from gridbook.errors import ConfigError
from gridbook.profiles import profile_config
from gridbook.runs.planning import CPU_GROUP_SIZE, GPU_GROUP_SIZE, default_group_size, plan_groups
from gridbook.runs.spec import expand_spec


def test_groups_are_balanced_across_workers_most_expensive_first():
    from gridbook.runs.planning import run_cost

    rnn = [profile_config("quick", seed=s) for s in range(17)]
    gru = [profile_config("quick", arch="gru", seed=0)]
    untrained = [profile_config("quick", n_steps=0, seed=0)]
    groups = plan_groups(rnn + gru + untrained, workers=2)
    costs = [sum(run_cost(c) for c in g) for g in groups]
    assert costs == sorted(costs, reverse=True)
    assert max(costs) <= sum(costs) / 4 + run_cost(rnn[0])  # no job holds much more than a quarter of the work
    assert sorted(c.run_id() for g in groups for c in g) == sorted(c.run_id() for c in rnn + gru + untrained)
    assert all(len({c.shape_key() for c in g}) == 1 for g in groups)
    assert [len(g) for g in plan_groups(rnn, workers=1)] == [17]  # one worker (or a GPU): one big batch

def test_a_cpu_trains_one_network_a_job_and_a_gpu_many():
    assert (default_group_size(gpu=False), default_group_size(gpu=True)) == (CPU_GROUP_SIZE, GPU_GROUP_SIZE) == (1, 32)
    runs = expand_spec({"profile": "smoke", "seeds": [0, 1, 2]})
    assert [len(g) for g in plan_groups(runs, default_group_size(gpu=False), workers=1)] == [1, 1, 1]


def test_groups_share_a_shape_are_capped_and_split_for_idle_workers():
    runs = expand_spec({"profile": "smoke", "parameters": {"arch": {"values": ["rnn", "gru"]},
                                                           "seed": {"values": list(range(5))}}})
    groups = plan_groups(runs, group_size=3)
    assert [len(g) for g in groups] == [3, 2, 3, 2]
    assert all(len({c.shape_key() for c in g}) == 1 for g in groups)
    assert sorted(len(g) for g in plan_groups(runs[:5], group_size=32, workers=4)) == [1, 1, 1, 1, 1]
    with pytest.raises(ConfigError, match="group_size=0 is invalid"):
        plan_groups(runs, group_size=0)
