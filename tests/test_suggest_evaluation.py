"""CloudWatch's evaluation rules (mlmon_cli/suggest/evaluation.py) against hand-computed cases:
AWS's own two tables (AlarmThatSendsEmail.html, "Configuring how CloudWatch alarms treat missing
data": 3 of 3 and 2 of 3, evaluation range 5), then whole series counted by hand."""

from __future__ import annotations

import pytest

from mlmon_cli.suggest.evaluation import (
    ALARM,
    INSUFFICIENT,
    OK,
    Episode,
    episodes,
    evaluate,
    overlapping,
    states,
)

KEEP = "keep"  # AWS: "Retain current state"


def marks(text: str) -> list[bool | None]:
    return [{"0": False, "X": True, "-": None}[c] for c in text.split()]


# (data points, MISSING, IGNORE, BREACHING, NOT BREACHING), most recent on the right
THREE_OF_THREE = [
    ("0 - X - X", OK, OK, OK, OK),
    ("0 - - - -", OK, OK, OK, OK),
    ("- - - - -", INSUFFICIENT, KEEP, ALARM, OK),
    ("0 X X - X", ALARM, ALARM, ALARM, ALARM),
    ("- - X - -", ALARM, KEEP, ALARM, OK),
]
TWO_OF_THREE = [
    ("0 - X - X", ALARM, ALARM, ALARM, ALARM),
    ("0 0 X 0 X", ALARM, ALARM, ALARM, ALARM),
    ("0 - X - -", OK, OK, ALARM, OK),
    ("- - - - 0", OK, OK, ALARM, OK),
    ("- - - X -", ALARM, KEEP, ALARM, OK),
]


@pytest.mark.parametrize("m,row", [(3, r) for r in THREE_OF_THREE] + [(2, r) for r in TWO_OF_THREE],
                         ids=lambda v: v if isinstance(v, int) else v[0])
@pytest.mark.parametrize("current", [OK, ALARM])
def test_aws_tables(m, row, current) -> None:
    data, *expected = row
    for treat, want in zip(("missing", "ignore", "breaching", "notBreaching"), expected):
        assert evaluate(marks(data), m, 3, treat, current) == (current if want == KEEP else want), (data, treat)


def test_premature_alarm_waits_for_the_next_datapoint() -> None:
    # AWS: with `- - - - X` or `- - - X -` and Datapoints to Alarm 3 the alarm does not go to ALARM yet
    assert evaluate(marks("- - - - X"), 3, 3, "missing", OK) == OK
    assert evaluate(marks("- - - X -"), 3, 3, "missing", OK) == OK
    assert evaluate(marks("- - - X 0"), 3, 3, "missing", OK) == OK


def test_unknown_treatment_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown TreatMissingData 'sometimes'"):
        evaluate(marks("X"), 1, 1, "sometimes")


def test_one_of_one_pages_on_each_breaching_period() -> None:
    # errors >= 1 in 1 of 1: two separate errors -> two episodes, each as long as its period
    values = [0, 0, 3, 0, None, 1, 1, 0]
    assert episodes(values, "GreaterThanOrEqualToThreshold", 1, 1, 1, "notBreaching") == [Episode(2, 3), Episode(5, 7)]


def test_m_out_of_n_needs_m_breaches_within_n() -> None:
    # 2 of 3 > 10: 12 at indexes 1 and 3 fall within 3 periods; 15 at 6 is alone; 11, 11 at 10 and 11
    values = [0, 12, 0, 12, 0, 0, 15, 0, 0, 0, 11, 11, 0, 0]
    got = states(values, "GreaterThanThreshold", 10, 2, 3, "notBreaching")
    # by hand: window of 3 real datapoints ending at i
    #  i=3: [12,0,12] -> 2 -> ALARM; i=4: [0,12,0] -> OK; i=6: [0,0,15] -> OK;
    #  i=11: [0,11,11] -> ALARM; i=12: [11,11,0] -> ALARM; i=13: [11,0,0] -> OK
    assert [i for i, s in enumerate(got) if s == ALARM] == [3, 11, 12]
    assert episodes(values, "GreaterThanThreshold", 10, 2, 3, "notBreaching") == [Episode(3, 4), Episode(11, 13)]


def test_missing_data_treatments_on_a_gap() -> None:
    # a metric that stops reporting: 1 of 1 < 1 (e.g. no invocations), then four missing periods
    values = [5, 5, None, None, None, None, 5]
    assert episodes(values, "LessThanThreshold", 1, 1, 1, "notBreaching") == []
    # breaching: the range (1 + 2 periods) still holds a real 5 at indexes 2 and 3; empty at 4 and 5
    assert episodes(values, "LessThanThreshold", 1, 1, 1, "breaching") == [Episode(4, 6)]
    assert episodes([5, None, None, None, None, 5], "LessThanThreshold", 1, 1, 1, "breaching") == [Episode(3, 5)]
    # missing: an empty range is INSUFFICIENT_DATA, never ALARM
    assert set(states([5, None, None, None, None], "LessThanThreshold", 1, 1, 1, "missing")) == {OK, INSUFFICIENT}


def test_ignore_keeps_alarm_through_a_gap() -> None:
    # ignore: ALARM at a breach, then missing data keeps ALARM until a real good datapoint
    values = [0, 9, None, None, None, None, 0]
    got = states(values, "GreaterThanThreshold", 5, 1, 1, "ignore")
    assert got == [OK, ALARM, ALARM, ALARM, ALARM, ALARM, OK]
    # notBreaching: the range still holds the real 9 for two more periods (AWS: alarms "may repeatedly
    # re-evaluate the last set of data points for a period of time after the metric has stopped flowing")
    assert states(values, "GreaterThanThreshold", 5, 1, 1, "notBreaching") == [OK, ALARM, ALARM, ALARM, OK, OK, OK]


def test_overlapping_episodes() -> None:
    current = [Episode(0, 2), Episode(5, 9), Episode(20, 21)]
    proposed = [Episode(6, 8), Episode(30, 31)]
    assert overlapping(current, proposed) == [Episode(5, 9)]
    assert overlapping(proposed, current) == [Episode(6, 8)]
