"""The manager's charts are well-formed SVG whatever the labels hold, with the numbers as text."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from hypothesis import given, strategies as st

from api import charts

SVG = "{http://www.w3.org/2000/svg}"


@given(st.lists(st.tuples(st.text(max_size=40), st.integers(0, 10_000)), max_size=12))
def test_charts__bars_and_stacked_are_well_formed_for_any_label(items):
    for svg in (charts.bars(items, "T <&> \"'"),
                charts.stacked([(label, {"a": n, "b": n // 2}) for label, n in items],
                               [charts.Series("a", "À contacter"), charts.Series("b", "Clôturé & co")], "S")):
        root = ET.fromstring(str(svg))
        assert root.tag == f"{SVG}svg" and root.find(f"{SVG}title") is not None


def test_charts__rates_show_percent_and_a_dash_for_nothing_to_measure():
    root = ET.fromstring(str(charts.rates([("Agence", 0.4567), ("Vide", None), ("Trop", 1.7)], "Taux")))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "45,7\u00a0%" in texts and "—" in texts and "170,0\u00a0%" in texts
    widths = [float(r.attrib["width"]) for r in root.iter(f"{SVG}rect") if r.attrib.get("fill") == charts.ACCENT]
    assert max(widths) <= float([r for r in root.iter(f"{SVG}rect")][0].attrib["width"])  # capped at the track
