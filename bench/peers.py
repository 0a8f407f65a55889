"""The libraries a user might pick instead of this engine, on the same work: create one case's
state machine (or workflow) in `à contacter`, step it once (`joindre`), serialize it to JSON.

In memory only: none persists, audits or checks a guard, so each one's figure is a lower bound
of what a change would cost built on it (add the raw driver minimum to compare with a change).
They come from the optional `bench` extra (`pip install -e ".[bench]"`); a peer that is not
installed is skipped, and the table says so.

The machines are built from this project's own lifecycle table (`states.lifecycle.TRANSITIONS`),
so every peer models the same nine states and transitions.
"""
from __future__ import annotations

import importlib.util
import json
import time
from collections.abc import Callable

from states.lifecycle import TRANSITIONS, State

START, EVENT = State.A_CONTACTER.value, "joindre"
# SpiffWorkflow models a process, not a state machine: its peer is the lifecycle's main path as a
# sequence of tasks, stepped by completing the `à contacter` task.
MAIN_PATH = ("a_contacter", "joint_rdv", "fiche_validee", "contrats_finalises", "bilan_fait",
             "actions_planifiees", "cloture")


def _transitions_per_case() -> Callable[[], str]:
    from transitions import Machine

    class Model:
        pass

    states = [s.value for s in State]
    specs = [(t.event, [s.value for s in t.sources], t.dest.value) for t in TRANSITIONS]

    def one() -> str:
        model = Model()
        m = Machine(model=model, states=states, initial=START, auto_transitions=False, ignore_invalid_triggers=False)
        for event, sources, dest in specs:
            m.add_transition(event, sources, dest)
        model.trigger(EVENT)
        return json.dumps({"state": model.state})

    return one


def _python_statemachine() -> Callable[[], str]:
    from statemachine import State as SMState
    from statemachine import StateMachine

    attrs: dict = {s.value: SMState(s.value, value=s.value, initial=s is State.A_CONTACTER, final=s is State.CLOTURE)
                   for s in State}
    for t in TRANSITIONS:
        group = None
        for src in t.sources:
            edge = attrs[src.value].to(attrs[t.dest.value])
            group = edge if group is None else group | edge
        attrs[t.event] = group
    lifecycle = type("Lifecycle", (StateMachine,), attrs)  # the class once, an instance per case

    def one() -> str:
        sm = lifecycle(start_value=START)
        sm.send(EVENT)
        return json.dumps({"state": sm.current_state_value})

    return one


def _spiffworkflow() -> Callable[[], str]:
    from SpiffWorkflow.serializer.json import JSONSerializer
    from SpiffWorkflow.specs.Simple import Simple
    from SpiffWorkflow.specs.WorkflowSpec import WorkflowSpec
    from SpiffWorkflow.workflow import Workflow

    spec = WorkflowSpec("suivi_m3", addstart=True)
    prev = spec.start
    for name in MAIN_PATH:
        task = Simple(spec, name)
        prev.connect(task)
        prev = task
    serializer = JSONSerializer()

    def one() -> str:
        wf = Workflow(spec)
        wf.run_next()  # Start -> à contacter is ready
        wf.run_next()  # à contacter done (joindre) -> joint_rdv is ready
        return serializer.serialize_workflow(wf)

    return one


# name in the table, the module that must be importable, the builder of its one-case function
PEERS = (
    ("transitions.Machine per case", "transitions", _transitions_per_case),
    ("python-statemachine", "statemachine", _python_statemachine),
    ("SpiffWorkflow", "SpiffWorkflow", _spiffworkflow),
)


def measure(n: int) -> dict[str, list[float] | str]:
    """Per peer: seconds per case (create, step, serialize), or why it was skipped."""
    out: dict[str, list[float] | str] = {}
    for name, module, build in PEERS:
        if importlib.util.find_spec(module) is None:
            out[name] = f"skipped: {module} not installed (pip install -e '.[bench]')"
            continue
        one = build()
        for _ in range(min(20, n)):  # warm-up: first-call caches, as a long-running server would have
            one()
        clock = time.perf_counter
        times: list[float] = []
        for _ in range(n):
            t0 = clock()
            one()
            times.append(clock() - t0)
        out[name] = times
    return out
