"""The line of records to show next: undone records first, then the ranking, then the skipped ones."""

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from activelabel_widget.line import Line, RankedLine


def ranked(*positions, strategy="test"):
    return RankedLine(np.asarray(positions, dtype=np.int64), [f"rank {i}" for i in range(len(positions))], strategy)


def always_open(position):
    return True


def drain(line, is_open=always_open):
    """Pop until the line is empty; each record taken goes on the card (so is no longer open)."""
    taken = []
    while True:
        item = line.pop(lambda p: p not in taken and is_open(p))
        if item is None:
            return taken
        taken.append(item[0])


def test_an_empty_line_gives_nothing():
    line = Line()
    assert line.pop(always_open) is None
    assert line.peek(5, always_open) == []
    assert line.remaining_ranked() == 0
    assert line.skipped_count() == 0
    assert line.skipped() == []


def test_ranked_line_empty_has_no_positions_and_keeps_the_strategy_name():
    empty = RankedLine.empty("margin")
    assert len(empty.positions) == 0 and empty.positions.dtype == np.int64
    assert empty.reasons == [] and empty.strategy == "margin"


def test_ranked_records_come_in_rank_order_with_their_reasons():
    line = Line()
    line.replace_ranked(ranked(7, 3, 5))
    assert line.pop(always_open) == (7, "rank 0")
    assert line.pop(always_open) == (3, "rank 1")
    assert line.pop(always_open) == (5, "rank 2")
    assert line.pop(always_open) is None


def test_pop_returns_plain_ints():
    line = Line()
    line.replace_ranked(ranked(4))
    position, _ = line.pop(always_open)
    assert type(position) is int


def test_undone_records_come_first_last_undone_first():
    line = Line()
    line.replace_ranked(ranked(10, 11))
    line.push_front(1)
    line.push_front(2, "undo of 2")
    assert line.pop(always_open) == (2, "undo of 2")
    assert line.pop(always_open) == (1, "shown again after undo")
    assert line.pop(always_open) == (10, "rank 0")


def test_skipped_records_come_after_the_ranking_oldest_skip_first():
    line = Line()
    line.replace_ranked(ranked(10, 11))
    line.push_back(3)
    line.push_back(1, "skipped at 9:00")
    line.push_front(20)
    assert drain(line) == [20, 10, 11, 3, 1]


def test_skipped_records_keep_their_reason():
    line = Line()
    line.push_back(3)
    line.push_back(4, "skipped twice")
    assert line.pop(always_open) == (3, "skipped earlier")
    assert line.pop(always_open) == (4, "skipped twice")


def test_skipping_again_moves_a_record_to_the_end_of_the_back():
    line = Line()
    line.push_back(1)
    line.push_back(2)
    line.push_back(1)
    assert line.skipped() == [2, 1]
    assert line.skipped_count() == 2
    assert drain(line) == [2, 1]


def test_undo_of_a_skip_takes_the_record_out_of_the_back():
    line = Line()
    line.push_back(1)
    line.push_back(2)
    line.push_front(1)
    assert line.skipped() == [2]
    assert drain(line) == [1, 2]


def test_remove_back_forgets_a_skip_and_ignores_unknown_records():
    line = Line()
    line.push_back(1)
    line.push_back(2)
    line.remove_back(1)
    line.remove_back(99)
    assert line.skipped() == [2]
    assert line.skipped_count() == 1
    assert drain(line) == [2]


def test_closed_records_are_passed_over_in_every_part():
    line = Line()
    line.replace_ranked(ranked(10, 11, 12))
    line.push_front(1)
    line.push_front(2)
    line.push_back(20)
    line.push_back(21)
    closed = {2, 11, 20}
    assert drain(line, lambda p: p not in closed) == [1, 10, 12, 21]


def test_a_line_of_closed_records_gives_nothing():
    line = Line()
    line.replace_ranked(ranked(1, 2))
    line.push_front(3)
    line.push_back(4)
    assert line.pop(lambda p: False) is None
    assert line.peek(3, lambda p: False) == []


def test_a_skipped_record_waits_for_its_turn_in_the_back_even_if_ranked_ahead():
    line = Line()
    line.replace_ranked(ranked(5, 6, 7))
    line.push_back(6)
    assert line.pop(always_open) == (5, "rank 0")
    assert line.pop(always_open) == (7, "rank 2")
    assert line.pop(always_open) == (6, "skipped earlier")
    assert line.pop(always_open) is None


def test_a_skip_undone_before_its_rank_is_reached_is_not_shown_twice():
    line = Line()
    line.replace_ranked(ranked(5, 6, 7))
    line.push_back(6)
    line.push_front(6)  # the skip was undone: 6 is on the card again
    assert drain(line) == [6, 5, 7]


def test_replace_ranked_resets_the_cursor_and_the_strategy():
    line = Line()
    line.replace_ranked(ranked(1, 2, 3, strategy="random"))
    line.pop(always_open)
    line.pop(always_open)
    assert line.remaining_ranked() == 1
    line.replace_ranked(ranked(3, 2, 1, 0, strategy="margin"))
    assert line.remaining_ranked() == 4
    assert line.pop(always_open) == (3, "rank 0")


def test_replace_ranked_keeps_the_front_and_the_back():
    line = Line()
    line.replace_ranked(ranked(1, 2))
    line.push_front(8)
    line.push_back(9)
    line.replace_ranked(ranked(3))
    assert drain(line) == [8, 3, 9]


def test_remaining_ranked_counts_down_as_the_cursor_moves_including_passed_over_records():
    line = Line()
    line.replace_ranked(ranked(1, 2, 3, 4))
    assert line.remaining_ranked() == 4
    line.pop(lambda p: p != 1)  # 1 is labeled: passed over, 2 taken
    assert line.remaining_ranked() == 2


def test_peek_lists_what_pop_would_give_without_taking_anything():
    line = Line()
    line.replace_ranked(ranked(10, 11, 12))
    line.push_front(1)
    line.push_back(20)
    assert line.peek(3, always_open) == [1, 10, 11]
    assert line.peek(3, always_open) == [1, 10, 11]
    assert line.remaining_ranked() == 3 and line.skipped() == [20]
    assert drain(line) == [1, 10, 11, 12, 20]


def test_peek_with_more_than_there_is_lists_everything_open():
    line = Line()
    line.replace_ranked(ranked(10, 11))
    line.push_back(20)
    assert line.peek(50, lambda p: p != 11) == [10, 20]


@pytest.mark.parametrize("k", [0, -1])
def test_peek_of_nothing_is_empty(k):
    line = Line()
    line.replace_ranked(ranked(10, 11))
    line.push_front(1)
    line.push_back(2)
    assert line.peek(k, always_open) == []


def test_peek_lists_each_record_once():
    line = Line()
    line.replace_ranked(ranked(1, 2, 3))
    line.push_front(2)
    line.push_front(2)
    line.push_back(3)
    assert line.peek(10, always_open) == [2, 1, 3]


def test_skipped_is_a_copy():
    line = Line()
    line.push_back(1)
    line.skipped().append(2)
    assert line.skipped() == [1]


# -- property: peek agrees with pop, the skip counter with the skip list --------------------------

POSITIONS = st.integers(0, 12)
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("push_front"), POSITIONS),
        st.tuples(st.just("push_back"), POSITIONS),
        st.tuples(st.just("remove_back"), POSITIONS),
        st.tuples(st.just("label"), POSITIONS),
        st.tuples(st.just("replace_ranked"), st.lists(POSITIONS, max_size=10, unique=True)),
        st.tuples(st.just("pop"), st.none()),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(OPERATIONS, st.integers(0, 30))
def test_peek_equals_the_records_pop_would_give(operations, k):
    line = Line()
    labeled: set[int] = set()
    card: set[int] = set()  # taken by pop and not given back

    def is_open(position):
        return position not in labeled and position not in card

    for name, argument in operations:
        if name == "push_front":  # undo brings a record back
            labeled.discard(argument)
            card.discard(argument)
            line.push_front(argument)
        elif name == "push_back":  # skip puts it back in the line
            card.discard(argument)
            line.push_back(argument)
        elif name == "remove_back":
            line.remove_back(argument)
        elif name == "label":
            labeled.add(argument)
        elif name == "replace_ranked":
            line.replace_ranked(ranked(*argument))
        else:
            taken = line.pop(is_open)
            if taken is not None:
                assert is_open(taken[0])
                card.add(taken[0])
        assert line.skipped_count() == len(line.skipped())
        assert len(set(line.skipped())) == len(line.skipped())

    before = (line.remaining_ranked(), line.skipped())
    peeked = line.peek(k, is_open)
    assert (line.remaining_ranked(), line.skipped()) == before  # peeking takes nothing

    probe = copy.deepcopy(line)
    probe_card = set(card)
    popped = []
    while len(popped) < k:
        taken = probe.pop(lambda p: p not in labeled and p not in probe_card)
        if taken is None:
            break
        probe_card.add(taken[0])
        popped.append(taken[0])
    assert peeked == popped
    assert len(set(peeked)) == len(peeked)
