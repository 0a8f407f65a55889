"""The shared machine obeys the one transition table, whatever sequence of events it is fed."""
from __future__ import annotations

from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from states.errors import DomainError
from states.lifecycle import (
    EVENTS, MACHINE, OPEN_STATES, TRANSITIONS, EventNotAllowed, State, allowed_events, mermaid, next_state,
)

KNOWN_EVENTS = sorted(EVENTS)
# Unknown events: look-alikes of real ones, transitions' own auto-trigger names, and free text.
UNKNOWN_EVENTS = ["JOINDRE", "joindre ", "to_cloture", "to_a_contacter", "cloturer_tout", "", "trigger"]
any_event = st.one_of(st.sampled_from(KNOWN_EVENTS), st.sampled_from(UNKNOWN_EVENTS), st.text(max_size=15))


def table_allows(state: State, event: str) -> State | None:
    """The destination the table gives (state, event), or None when the table forbids it."""
    t = EVENTS.get(event)
    return t.dest if t is not None and state in t.sources else None


@settings(max_examples=200, deadline=None)
@given(start=st.sampled_from(list(State)), events=st.lists(any_event, max_size=30))
def test_lifecycle__no_event_sequence_reaches_a_state_the_table_forbids(start, events):
    state = start
    for event in events:
        expected = table_allows(state, event)
        if expected is None:
            with pytest.raises(EventNotAllowed) as refused:
                next_state(state, event)
            assert refused.value.allowed == allowed_events(state)
        else:
            state = next_state(state, event)
            assert state is expected


@settings(max_examples=200, deadline=None)
@given(events=st.lists(st.sampled_from(KNOWN_EVENTS), max_size=40))
def test_lifecycle__from_a_contacter_every_reached_state_is_a_table_destination(events):
    state, visited = State.A_CONTACTER, [State.A_CONTACTER]
    for event in events:
        if table_allows(state, event) is not None:
            state = next_state(state, event)
            visited.append(state)
    destinations = {t.dest for t in TRANSITIONS} | {State.A_CONTACTER}
    assert set(visited) <= destinations


def test_lifecycle__closed_state_has_no_exits():
    assert allowed_events(State.CLOTURE) == []
    assert MACHINE.get_triggers(State.CLOTURE.value) == []
    assert not any(State.CLOTURE in t.sources for t in TRANSITIONS)
    for event in KNOWN_EVENTS:
        with pytest.raises(EventNotAllowed):
            next_state(State.CLOTURE, event)


@pytest.mark.parametrize("state", list(State))
def test_lifecycle__allowed_events_agree_with_the_table_and_the_machine(state):
    from_table = {t.event for t in TRANSITIONS if state in t.sources}
    assert set(allowed_events(state)) == from_table
    assert set(MACHINE.get_triggers(state.value)) == from_table
    for event in KNOWN_EVENTS:
        if event in from_table:
            assert next_state(state, event) is EVENTS[event].dest
        else:
            with pytest.raises(EventNotAllowed):
                next_state(state, event)


def test_lifecycle__every_state_is_reachable_from_a_contacter():
    seen, todo = {State.A_CONTACTER}, deque([State.A_CONTACTER])
    while todo:
        state = todo.popleft()
        for event in allowed_events(state):
            dest = next_state(state, event)
            if dest not in seen:
                seen.add(dest)
                todo.append(dest)
    assert seen == set(State)


@pytest.mark.parametrize("state", OPEN_STATES)
def test_lifecycle__every_open_state_can_reach_cloture(state):
    seen, todo = {state}, deque([state])
    while todo:
        for event in allowed_events(todo.popleft()):
            dest = EVENTS[event].dest
            if dest not in seen:
                seen.add(dest)
                todo.append(dest)
    assert State.CLOTURE in seen


def test_lifecycle__refusal_is_a_domain_error_naming_the_allowed_events():
    with pytest.raises(DomainError) as refused:
        next_state(State.A_CONTACTER, "valider_fiche")
    assert isinstance(refused.value, EventNotAllowed)
    for event in allowed_events(State.A_CONTACTER):
        assert event in str(refused.value)


def test_lifecycle__mermaid_draws_every_transition_of_the_table():
    diagram = mermaid()
    for t in TRANSITIONS:
        for src in t.sources:
            assert f"{src.value} --> {t.dest.value} : {t.event}" in diagram
