"""The profile box every chapter shows: which profile built the page, how many networks, and every place the
profile departs from the paper (:data:`gridbook.profiles.PROFILE_DEVIATIONS`)."""

from __future__ import annotations

import html

from gridbook.config import PROFILES
from gridbook.errors import check_choice, check_int
from gridbook.profiles import PROFILE_DEVIATIONS, PROFILE_OVERRIDES

__all__ = ["threshold_table", "deviation_table", "profile_box", "profile_box_html", "table"]


def deviation_table(profile: str):
    """Where ``profile`` departs from the paper, as a DataFrame (field, paper, this profile, why)."""
    import pandas as pd

    check_choice("profile", profile, PROFILES)
    rows = [(f, str(p), str(v), why) for f, p, v, why in PROFILE_DEVIATIONS[profile]]
    return pd.DataFrame(rows, columns=["field", "paper", f"{profile} profile", "why"])


def profile_box_html(profile: str, n_runs: int) -> str:
    """The HTML of :func:`profile_box`: a collapsed admonition (``<details>``) whose one-line summary names the profile,
    the run count and the number of departures from the paper, with the table of departures inside."""
    check_choice("profile", profile, PROFILES)
    check_int("n_runs", n_runs, 0)
    runs = "no trained networks" if n_runs == 0 else f"{n_runs} trained network{'s' * (n_runs != 1)}"
    rows = "".join(
        f"<tr><td><code>{html.escape(str(f))}</code></td><td>{html.escape(str(p))}</td>"
        f"<td>{html.escape(str(v))}</td><td>{html.escape(why)}</td></tr>"
        for f, p, v, why in PROFILE_DEVIATIONS[profile])
    overrides = ", ".join(f"{k}={v}" for k, v in PROFILE_OVERRIDES[profile].items())
    n_deviations = len(PROFILE_DEVIATIONS[profile])
    return (
        f'<details class="admonition note gridbook-profile">'
        f'<summary class="admonition-title">Built with the <strong>{profile}</strong> profile: {runs}; '
        f"{n_deviations} departure{'s' * (n_deviations != 1)} from the paper (click to show)</summary>"
        f"<p>Where the <code>{profile}</code> profile departs from the paper "
        f"(overrides: <code>{html.escape(overrides)}</code>):</p>"
        f'<table class="table gridbook-table"><thead><tr><th>field</th><th>paper</th><th>{profile}</th><th>why</th>'
        f"</tr></thead><tbody>{rows}</tbody></table></details>")


def profile_box(profile: str, n_runs: int):
    """A box naming the profile that built a chapter, its run count and the profile's deviations from the paper
    (from :data:`gridbook.profiles.PROFILE_DEVIATIONS`); an IPython display object."""
    from IPython.display import HTML

    return HTML(profile_box_html(profile, n_runs))


def table(frame, precision: int | None = None, na_rep: str = "-", index: bool = True):
    """A table for a page: every cell's full text (no "..." cuts), wrapped within the page (the book's CSS styles the
    class ``gridbook-table``); numbers with ``precision`` decimals. Returns a pandas Styler."""
    styler = frame.style.set_table_attributes('class="gridbook-table"').format(precision=precision, na_rep=na_rep)
    return styler if index else styler.hide(axis="index")


INDEX_UNITS = {"sigma": ("sigma", 100.0, "cm"), "surround_scale": ("s", 1.0, "")}  # index -> (label, scale, unit)


def threshold_table(frame):
    """A table of :func:`gridbook.book.chapters.threshold_percentages` as a paper prints it: columns "score > 0.3"
    (mean, min, max %) and "runs", rows by "sigma (cm)" (10, 11, ...) or "s": no "0.300000" heads."""
    out = frame.copy()
    out.columns = out.columns.set_levels([f"score > {t:g}" if isinstance(t, float) else str(t)
                                          for t in out.columns.levels[0]], level=0)
    label, scale, unit = INDEX_UNITS.get(out.index.name, (out.index.name, 1.0, ""))
    out.index = [f"{scale * v:g}" for v in out.index]
    out.index.name = f"{label} ({unit})" if unit else label
    return out
