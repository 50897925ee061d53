"""Rows are built by column name: a missing or an unknown column is an error, not a
tuple one short or one long, and the values land in the columns they name."""

import pytest

from bundlestream.projections.tables import BUNDLE_POSTS, RowShapeError

POSTED = {
    "plan_id": "plan-1",
    "bundle_id": "bundle-1",
    "posted_height": 7,
    "already_known": False,
    "posted_at": 1_700_000_000_000,
}


def test_values_are_laid_out_in_column_order_whatever_order_they_are_named_in() -> None:
    row = BUNDLE_POSTS.row(**dict(reversed(POSTED.items())))
    assert dict(zip(BUNDLE_POSTS.columns, row, strict=True)) == POSTED


def test_a_row_missing_a_column_is_refused() -> None:
    short = {name: value for name, value in POSTED.items() if name != "posted_height"}
    with pytest.raises(RowShapeError) as refused:
        BUNDLE_POSTS.row(**short)
    assert (refused.value.missing, refused.value.unknown) == (["posted_height"], [])


def test_a_row_adding_a_column_is_refused() -> None:
    with pytest.raises(RowShapeError) as refused:
        BUNDLE_POSTS.row(**POSTED, posted_by="someone")
    assert (refused.value.missing, refused.value.unknown) == ([], ["posted_by"])


def test_a_misnamed_column_is_refused_rather_than_written_elsewhere() -> None:
    renamed = {("height" if name == "posted_height" else name): v for name, v in POSTED.items()}
    with pytest.raises(RowShapeError) as refused:
        BUNDLE_POSTS.row(**renamed)
    assert (refused.value.missing, refused.value.unknown) == (["posted_height"], ["height"])
