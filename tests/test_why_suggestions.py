"""`why` suggests the identifiers spelled most like a query nobody matches: exactly what
``difflib.get_close_matches`` suggests, computed without its ratio for every identifier."""

from __future__ import annotations

import difflib

from hypothesis import given, settings
from hypothesis import strategies as st

from loganalyzer.why.lookup import closest_identifiers, suggestions

# Identifiers as exports log them: mail addresses of one domain, object ids, display names.
LOCAL = st.text("abcdeilnorst.0123456789", min_size=1, max_size=14)
MAILS = st.builds(lambda local: f"{local}@contoso-big.example", LOCAL)
IDS = st.uuids().map(str)
NAMES = st.text("abcdeøå ü-", max_size=12)
IDENTIFIERS = st.sets(st.one_of(MAILS, IDS, NAMES, LOCAL), max_size=80)


@settings(max_examples=300, deadline=None)
@given(IDENTIFIERS, st.one_of(MAILS, IDS, NAMES, LOCAL))
def test_suggestions_are_difflibs(names, query):
    assert closest_identifiers(names, query) == difflib.get_close_matches(
        query, sorted(names), n=5, cutoff=0.6)


def test_ties_keep_difflibs_order_and_a_near_miss_is_suggested():
    names = {f"nora.berg{n}@contoso-big.example" for n in range(200, 240)} | {
        "nobody.there@contoso-big.exampl", ""}
    query = "nobody.there@contoso-big.example"
    suggested = closest_identifiers(names, query)
    assert suggested[0] == "nobody.there@contoso-big.exampl"
    assert suggested == difflib.get_close_matches(query, sorted(names), n=5, cutoff=0.6)
    assert closest_identifiers(names, "") == [""]


def test_a_later_bound_equal_to_the_worst_kept_ratio_still_competes():
    # "abdc" has the higher bound (all 4 characters in common: 8/9) but ratio 2/3; "abdd" has
    # bound and ratio 2/3 and, spelled later, wins the tie as in difflib
    names = {"abdc", "abdd"}
    assert closest_identifiers(names, "abcde", limit=1) == ["abdd"]
    assert difflib.get_close_matches("abcde", sorted(names), n=1, cutoff=0.6) == ["abdd"]


def test_an_address_is_compared_by_its_name_not_the_domain_everyone_shares():
    """A tenant's addresses share '@northwind.no': compared whole, every colleague looked
    close to a typo ('new.hire@…' suggested hanne.roed@…, per.olsen@…)."""
    names = {"ole.johansen@northwind.no", "per.olsen@northwind.no", "live.tangen@northwind.no",
             "silje.bakken@northwind.no", "hanne.roed@northwind.no", "ole johansen",
             "5c0e2d4c-6b8a-4c1e-9d3f-7a5b3c1e9f02"}
    assert suggestions(names, "new.hire@northwind.no") == []
    assert suggestions(names, "ole.johanson@northwind.no") == [
        "ole.johansen@northwind.no", "ole johansen"]
    # the right name at the wrong domain is the near miss it is
    assert suggestions(names, "ole.johansen@northwind.com")[0] == "ole.johansen@northwind.no"
    # anything else is compared whole, as difflib does
    assert suggestions(names, "ole johanson") == closest_identifiers(names, "ole johanson")
