"""The error types and the checks that write their one-line messages."""

import pytest

from gridbook.errors import ConfigError, check_choice, check_int, check_positive, check_range, invalid


def test_invalid_names_the_field_and_the_allowed_values():
    err = invalid("sigma", -1, "> 0")
    assert isinstance(err, ConfigError) and isinstance(err, ValueError)
    assert str(err) == "sigma=-1 is invalid; allowed values: > 0"


def test_checks_pass_good_values_and_reject_bad_ones():
    check_choice("arch", "rnn", ("rnn", "gru"))
    check_positive("lr", 1e-4)
    check_positive("weight_decay", 0.0, strict=False)
    check_int("seed", 0, 0)
    check_range("sigma_range", None)
    check_range("sigma_range", (0.06, 0.18))
    with pytest.raises(ConfigError, match=r"arch='lstmx' is invalid; allowed values: rnn, gru$"):
        check_choice("arch", "lstmx", ("rnn", "gru"))
    with pytest.raises(ConfigError, match=r"lr=0 is invalid; allowed values: > 0$"):
        check_positive("lr", 0)
    with pytest.raises(ConfigError, match=r"weight_decay=-1.0 is invalid; allowed values: >= 0$"):
        check_positive("weight_decay", -1.0, strict=False)
    with pytest.raises(ConfigError, match="a finite number"):
        check_positive("lr", float("nan"))
    with pytest.raises(ConfigError, match="a finite number"):
        check_positive("lr", True)
    with pytest.raises(ConfigError, match=r"seed=1.5 is invalid; allowed values: an integer >= 0$"):
        check_int("seed", 1.5, 0)
    with pytest.raises(ConfigError, match="an integer >= 1"):
        check_int("batch_size", True, 1)
    with pytest.raises(ConfigError, match=r"surround_range=\(2.0, 1.5\) is invalid; allowed values: None or \(a, b\)"):
        check_range("surround_range", (2.0, 1.5), low=1.0)
