"""What a minute's tick re-evaluates: the workspaces whose spend changed, whose rules or timezone were edited, whose
local day rolled over, or with a repeat due — and nothing else once nothing is new."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, update

from backend.models import AlertMark, AlertRule, AlertState, ProviderAccount, Workspace
from backend.services import alert_marks
from backend.services.ingest import ingest
from integrations.records import UsageRecord
from jobs.alerts import evaluate_workspaces

# 20:00 UTC: still the 22nd in UTC and New York, already the 23rd in Tokyo at 05:00.
NOW = dt.datetime(2026, 11, 22, 20, 0, tzinfo=dt.UTC)


@pytest.fixture
def db(app: Any, owner: dict[str, Any]) -> Any:
    database = app.extensions["spendwatch"].db
    with database.system_session() as s:
        s.add_all(
            [Workspace(name="Tokyo", timezone="Asia/Tokyo"), Workspace(name="New York", timezone="America/New_York")]
        )
    return database


def _ids(db: Any) -> dict[str, int]:
    with db.system_session() as s:
        return {w.timezone: w.id for w in s.scalars(select(Workspace))}


def _age_edits(db: Any) -> None:
    """As if every rule and workspace had been edited well before NOW."""
    with db.system_session() as s:
        for model in (AlertRule, Workspace):
            s.execute(update(model).values(updated_at=NOW - dt.timedelta(days=1)))


def _due(db: Any, now: dt.datetime, marked: set[int] | None = None) -> alert_marks.Due:
    with db.system_session() as s:
        return alert_marks.due(s, now, marked or set())


def test_the_first_tick_looks_at_everything_and_the_next_at_nothing_new(db: Any) -> None:
    assert _due(db, NOW).everything
    _age_edits(db)
    assert _due(db, NOW + dt.timedelta(minutes=1)) == alert_marks.Due(False, frozenset())


def test_marked_and_edited_workspaces_are_due(db: Any) -> None:
    ids = _ids(db)
    _due(db, NOW)
    _age_edits(db)
    assert _due(db, NOW + dt.timedelta(minutes=1), {ids["UTC"]}).workspace_ids == {ids["UTC"]}
    with db.system_session() as s:
        s.add(AlertRule(workspace_id=ids["America/New_York"], name="b", kind="budget", period="day", amount=1))
    later = NOW + dt.timedelta(minutes=2)
    with db.system_session() as s:  # the rule was written at wall-clock time, before LATER's sweep
        s.execute(update(AlertRule).values(updated_at=later - dt.timedelta(seconds=30)))
    assert _due(db, later).workspace_ids == {ids["America/New_York"]}
    assert _due(db, later + dt.timedelta(minutes=1)).workspace_ids == set()


def test_a_workspace_is_due_when_its_own_local_day_rolls_over(db: Any) -> None:
    ids = _ids(db)
    before = dt.datetime(2026, 11, 22, 14, 59, tzinfo=dt.UTC)  # 23:59 in Tokyo
    _due(db, before)
    _age_edits(db)
    assert _due(db, before + dt.timedelta(minutes=2)).workspace_ids == {ids["Asia/Tokyo"]}
    assert _due(db, before + dt.timedelta(minutes=3)).workspace_ids == set()
    # Midnight UTC is 19:00 in New York: only UTC's day begins.
    assert _due(db, dt.datetime(2026, 11, 23, 0, 1, tzinfo=dt.UTC)).workspace_ids == {ids["UTC"]}


def test_a_firing_rule_with_a_repeat_is_due_once_its_interval_has_passed(db: Any) -> None:
    ids = _ids(db)
    with db.system_session() as s:
        rule = AlertRule(workspace_id=ids["UTC"], name="r", kind="budget", period="day", amount=1, repeat_minutes=60)
        s.add(rule)
        s.flush()
        s.add(
            AlertState(
                workspace_id=ids["UTC"],
                rule_id=rule.id,
                period_key="2026-11-22",
                threshold_key="actual:100%",
                state="firing",
                changed_at=NOW,
                last_notified_at=NOW,
            )
        )
    _due(db, NOW)
    _age_edits(db)
    assert _due(db, NOW + dt.timedelta(minutes=59)).workspace_ids == set()
    assert _due(db, NOW + dt.timedelta(minutes=60)).workspace_ids == {ids["UTC"]}


def test_stored_spend_marks_its_workspace_and_an_evaluation_takes_the_mark(app: Any, db: Any) -> None:
    with db.system_session() as s:
        account = ProviderAccount(workspace_id=1, kind="demo", name="d", credentials={})
        s.add(account)
        s.flush()
        day = NOW.replace(hour=0)
        ingest(session=s, account=account, records=[UsageRecord(day, "1d", "cost", model="m", cost=Decimal("2.5"))])
    with db.system_session() as s:
        assert s.scalars(select(AlertMark.workspace_id)).all() == [1]
    evaluate_workspaces(db, app.extensions["spendwatch"].settings, [1])
    with db.system_session() as s:
        assert s.scalars(select(AlertMark.workspace_id)).all() == []
