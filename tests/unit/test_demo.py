"""The demo practice looks like the seed's practices: 35-65 chronic users per GP, two thirds
eligible after screening with the default criteria (FTO module, bijlage 1 and step 2)."""

from __future__ import annotations

import benzoredux
from benzoredux.demo import demo_practice


def test_demo_screening_leaves_about_two_thirds_with_the_default_criteria() -> None:
    demo = demo_practice()
    chronic = benzoredux.select_chronic_users(
        demo.dispensings, demo.reference_date, patients=demo.patients, include_excluded=True
    )
    result = benzoredux.screen(
        chronic, demo.reference_date, patients=demo.patients, episodes=demo.episodes
    )
    summary = result.summary
    # Every criterion has its data: nobody is left undecided for want of a column.
    assert not result.table["undecided"].any()
    share = summary.eligible_share
    assert share is not None
    assert 0.55 <= share <= 0.8, share
    # The patients table's screening flags take part: someone is excluded for each.
    excluded_by = "; ".join(result.table["excluded_by"].dropna())
    for key in ("dutch_language", "immobile", "other_indication"):
        assert key in excluded_by, key
