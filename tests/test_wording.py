"""The one wording helper every message counts with."""

from __future__ import annotations

import pytest

from loganalyzer.wording import plural, quote_list, verb


@pytest.mark.parametrize(
    ("count", "word", "words", "expected"),
    [
        (0, "user", None, "0 users"),
        (1, "user", None, "1 user"),
        (2, "user", None, "2 users"),
        (1204, "event", None, "1,204 events"),
        (1, "entry", "entries", "1 entry"),
        (3, "entry", "entries", "3 entries"),
    ],
)
def test_plural(count, word, words, expected):
    assert plural(count, word, words) == expected


def test_verb_agrees_with_the_count():
    assert f"{plural(1, 'user')} {verb(1, 'was', 'were')} created" == "1 user was created"
    assert f"{plural(2, 'object')} {verb(2, 'keeps', 'keep')} failing" == "2 objects keep failing"


def test_quote_list_says_how_many_more():
    assert quote_list(["a", "b"]) == "a, b"
    assert quote_list([str(n) for n in range(7)], limit=3) == "0, 1, 2 and 4 more"
    assert quote_list(["a", "b", "c", "d"], limit=3) == "a, b, c, d"  # never "and 1 more"


def test_no_message_of_the_samples_says_one_in_the_plural(tmp_path):
    """Every diagnose message of the bundled samples: no '1 users', no '(s)', no '..'."""
    import re

    from conftest import SAMPLES

    from loganalyzer.cli.console import plain
    from loganalyzer.diagnosis_text import render_terminal
    from loganalyzer.engine import diagnose
    from loganalyzer.ingest import load
    from loganalyzer.verdict import verdict

    bad = re.compile(r"\b1 (users|objects|events|failures|cycles|skips|groups)\b|\(s\)|\w\.\.(?!\.)"
                     r"|\b1 \w+ (were|keep|have)\b")
    for sample in sorted(SAMPLES.glob("*.json")):
        if sample.name == "manifest.json":
            continue
        diagnosis = diagnose(load([sample]).frames)
        text = " ".join(plain(render_terminal(diagnosis, verdict(diagnosis))).split())
        assert not bad.search(text), (sample.name, bad.search(text).group(0))


@pytest.mark.parametrize("failing, expected", [
    (["Flowcase Users NO", "Flowcase Managers"], "1 more group appears in events that did not"),
    ([], "1 group (Flowcase Users SE) appears in 1 event"),
])
def test_fc001_says_one_group_in_the_singular(failing, expected):
    """A truncated export of the group-404 sample left one group that did not fail."""
    from eventfactory import Export

    from loganalyzer.engine import diagnose

    export = Export()
    for name in failing:
        export.group(name, http=404)
    export.group("Flowcase Users SE", status="success", http=None)
    finding = next(f for f in diagnose(export.frames()).findings if f.rule_id == "FC001")
    assert expected in finding.message
