from states.commands import FireEvent
from store.write_path import execute
from tests import factories as f


def test_write_path__fires_event_and_bumps_version(engine, now):
    with engine.begin() as conn:
        case_id, *_ = f.ready_case(conn)
    result = execute(engine, case_id, 1, FireEvent("joindre"), "advisor:1", now)
    assert (result.state, result.version, result.audit_seq) == ("joint_rdv", 2, 2)
