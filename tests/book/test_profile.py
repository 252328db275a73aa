"""The profile box every chapter shows."""

from __future__ import annotations

import pytest

from gridbook.book import profile as book
from gridbook.config import PROFILES
from gridbook.errors import ConfigError
from gridbook.profiles import PROFILE_DEVIATIONS, profile_config


# ---- the profile box ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("profile", PROFILES)
def test_profile_box_names_profile_runs_and_every_deviation(profile):
    text = book.profile_box(profile, n_runs=7).data
    assert f"<strong>{profile}</strong> profile: 7 trained networks" in text
    for name, paper_value, value, _ in PROFILE_DEVIATIONS[profile]:
        assert f"<code>{name}</code></td><td>{paper_value}</td><td>{value}</td>" in text
    assert book.deviation_table(profile)["field"].tolist() == [d[0] for d in PROFILE_DEVIATIONS[profile]]


@pytest.mark.parametrize("profile", ["paper", "quick"])
def test_every_deviation_states_the_profiles_own_value(profile):
    flat = profile_config(profile).to_flat()
    for name, _, value, _ in PROFILE_DEVIATIONS[profile]:
        assert flat[name] == value, name
    assert "surround_convention" in [d[0] for d in PROFILE_DEVIATIONS[profile]]  # the paper's code reads s otherwise


def test_profile_box_rejects_bad_input():
    assert "no trained networks" in book.profile_box_html("quick", 0)
    assert "1 trained network;" in book.profile_box_html("quick", 1)
    with pytest.raises(ConfigError, match="profile='fast' is invalid; allowed values: smoke, quick, gpu, paper"):
        book.profile_box("fast", 1)
    with pytest.raises(ConfigError, match="n_runs=-1 is invalid"):
        book.profile_box("quick", -1)


def test_profile_box_is_collapsed_under_a_one_line_summary():
    text = book.profile_box_html("smoke", 3)
    assert text.startswith('<details class="admonition note gridbook-profile"><summary') and text.endswith("</details>")
    summary = text[text.index("<summary"):text.index("</summary>")]
    assert "3 trained networks; 1 departure from the paper" in summary and "<table" not in summary


def test_tables_keep_full_text_and_carry_the_wrapping_class():
    import pandas as pd

    long = "x" * 80 + " the end"
    html = book.table(pd.DataFrame({"text": [long], "value": [1.23456]}), precision=2).to_html()
    assert 'class="gridbook-table"' in html and long in html and "1.23" in html and "1.2346" not in html
    assert ">0<" not in book.table(pd.DataFrame({"a": [1]}), index=False).to_html()  # the index is hidden
