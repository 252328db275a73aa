"""The paper's numbers agree with the config defaults that restate them and with each other."""

from gridbook import paper
from gridbook.config import TARGETS, RunConfig, TargetConfig


def test_config_defaults_are_the_papers():
    config = RunConfig()
    assert (config.task.box_width, config.task.box_height) == paper.BOX_M
    assert (config.target.sigma, config.target.surround_scale) == (paper.SIGMA_M, paper.SURROUND_SCALE)
    assert config.analysis.n_bins == paper.RATEMAP_BINS and config.target.decode_top_k == paper.DECODE_TOP_K
    assert config.analysis.score_form in paper.SCORE_FORMS


def test_thresholds_and_targets_are_consistent():
    assert paper.GRID_SCORE_THRESHOLD in paper.SCORE_THRESHOLDS
    assert paper.PERIOD_SCORE_THRESHOLD in paper.SCORE_THRESHOLDS
    assert set(paper.MSE_TARGETS) <= set(TARGETS) and set(paper.NON_GRID_TARGETS) <= set(TARGETS)
    assert set(paper.TASK_SUCCESS) <= set(TARGETS)
    assert sum(n for n, _, _ in paper.TASK_SUCCESS.values()) == paper.N_NETWORKS  # the chart covers every network
    assert min(paper.SPIKE_NEIGHBOURS_M) < paper.SPIKE_SIGMA_M < max(paper.SPIKE_NEIGHBOURS_M)
    assert paper.PAPER_MODE_RATIOS[1] < paper.BIOLOGICAL_MODULE_RATIO
    assert list(paper.RESULTS) == [f"R{i}" for i in range(1, 8)]


def test_loss_kind_and_code_size_follow_the_mse_targets():
    assert [TargetConfig(target=t).loss_kind for t in TARGETS] == [
        "mse" if t in paper.MSE_TARGETS else "cross_entropy" for t in TARGETS]
    assert TargetConfig(target="cartesian", n_place_cells=64).code_size == 2
    assert TargetConfig(target="hd_polar", n_place_cells=64).code_size == 64
