"""The import's bulk computation of the search keys gives exactly what `keys` gives."""
from hypothesis import given, settings
from hypothesis import strategies as st

from store.search_columns import extend_rows, keys

COLUMNS = ["id", "first_name", "last_name", "company_name", "phone"]
NAMES = st.none() | st.text(max_size=20) | st.sampled_from(["Hélène", " Léger ", "ÉLODIE", "ß", "Œuvre", "a\u00a0b",
                                                             "e\u0301", "\u0301x", "   ", "", "Ǆemal", "ﬁne"])
PHONES = st.none() | st.sampled_from(["+33612345678", "+262692123456", "n/c", "06 12 34", "+44 20 7946 0958", ""])


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(NAMES, NAMES, NAMES, PHONES), min_size=1, max_size=6))
def test_extend_rows__the_keys_of_keys_with_name_parts_folded_once(rows):
    tuples = [(f"C{i}", *r) for i, r in enumerate(rows)]
    out = extend_rows(COLUMNS, tuples)
    for row, extended in zip(tuples, out):
        expected = keys(row[1], row[2], row[3], row[4])
        assert extended == (*row, expected["search_name"], expected["search_phone"])
