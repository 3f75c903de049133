"""Repeated events are dropped exactly: GUIDs kept as numbers, every other id as text."""

from __future__ import annotations

import uuid

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from loganalyzer.dedupe import Deduper, SortedRuns

# ids as the formats reference shows them: canonical GUIDs, the documentation's obfuscated
# ones (not hex), a short non-GUID id, and the same GUID in upper case (another string)
GUID = "e7e9d06f-8673-4759-bfed-67d499095d2f"
NOT_HEX = "75b5b0ae-9fc5-8d0e-e0a9-7y6a4728de56"
SHORT = "ffsdj2g8zwtfkd"


def _reference(batches: list[list[str | None]]) -> list[list[bool]]:
    """What de-duplication means: the first sighting of each id, and every row without one."""
    seen: set[str] = set()
    kept = []
    for batch in batches:
        keep = []
        for event_id in batch:
            keep.append(event_id is None or event_id not in seen)
            if event_id is not None:
                seen.add(event_id)
        kept.append(keep)
    return kept


def _kept(batches: list[list[str | None]]) -> tuple[list[list[bool]], int]:
    dedupe = Deduper()
    kept = [dedupe._keep(pl.Series(b, dtype=pl.Utf8)).to_list() for b in batches]
    return kept, dedupe.duplicates


def test_each_kind_of_id_is_kept_once_across_and_within_batches() -> None:
    batches = [[GUID, NOT_HEX, SHORT, None, GUID.upper()],
               [SHORT, GUID, None, NOT_HEX, GUID.upper(), GUID.replace("e7", "e8", 1)],
               [GUID, GUID, "", ""]]
    kept, duplicates = _kept(batches)
    assert kept == [[True, True, True, True, True],
                    [False, False, True, False, False, True],
                    [False, False, True, False]]
    assert duplicates == 7


def test_guids_are_held_as_numbers_and_others_as_text() -> None:
    dedupe = Deduper()
    dedupe._keep(pl.Series([GUID, NOT_HEX, SHORT, GUID.upper()]))
    assert dedupe.other_ids == {NOT_HEX, SHORT, GUID.upper()}
    [run] = dedupe.guids.runs
    assert run.dtype == pl.UInt128 and run.to_list() == [int(GUID.replace("-", ""), 16)]


def test_many_batches_merge_into_few_sorted_runs_and_lose_nothing() -> None:
    ids = [str(uuid.UUID(int=(n * 0x9E3779B97F4A7C15) % 2**128)) for n in range(6_000)]
    batches = [ids[i:i + 250] for i in range(0, len(ids), 250)]
    batches += [ids[::7], ids[-300:]]  # everything again, from the first run and the last
    dedupe = Deduper()
    kept = [dedupe._keep(pl.Series(b)) for b in batches]
    assert [k.all() for k in kept[:24]] == [True] * 24
    assert not kept[24].any() and not kept[25].any()
    assert dedupe.duplicates == len(ids[::7]) + 300
    runs = dedupe.guids.runs
    assert sum(len(r) for r in runs) == len(ids) and len(runs) <= 5
    assert all(r.is_sorted() for r in runs)


def test_runs_stop_merging_at_their_limit_and_still_hold_every_number() -> None:
    runs = SortedRuns(max_run=1_000)
    values = [(n * 0x9E3779B97F4A7C15) % 2**128 for n in range(5_000)]
    for start in range(0, 5_000, 100):
        runs.add(pl.Series(values[start:start + 100], dtype=pl.UInt128))
    assert all(len(r) <= 1_000 and r.is_sorted() for r in runs.runs)
    assert sum(len(r) for r in runs.runs) == 5_000 and len(runs.runs) <= 12
    asked = values + [v + 1 for v in values]  # every number, and one next to each
    held = set(values)
    expected = [v in held for v in asked]
    assert expected[:5_000] == [True] * 5_000 and not any(expected[5_000:])
    assert runs.contains(pl.Series(asked, dtype=pl.UInt128)).to_list() == expected


def test_sorted_runs_answer_membership_at_both_ends_of_each_run() -> None:
    runs = SortedRuns()
    runs.add(pl.Series([5, 1, 9], dtype=pl.UInt128))
    runs.add(pl.Series([2**128 - 1], dtype=pl.UInt128))
    asked = pl.Series([0, 1, 5, 9, 10, 2**128 - 2, 2**128 - 1], dtype=pl.UInt128)
    assert runs.contains(asked).to_list() == [False, True, True, True, False, False, True]


_ids = st.one_of(st.none(), st.sampled_from([GUID, GUID.upper(), NOT_HEX, SHORT, ""]),
                 st.integers(0, 40).map(lambda n: str(uuid.UUID(int=n))))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_ids, max_size=12), max_size=8))
def test_any_mix_of_ids_is_de_duplicated_like_a_set_of_strings(batches) -> None:
    kept, duplicates = _kept(batches)
    expected = _reference(batches)
    assert kept == expected
    assert duplicates == sum(k.count(False) for k in expected)
