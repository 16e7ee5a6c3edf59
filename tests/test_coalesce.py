"""The follow-up thread behind "evaluate alerts right after a sync": coalesces keys, never runs one twice at once."""

from __future__ import annotations

import threading

from jobs.coalesce import Coalescer


def test_keys_added_during_a_pass_wait_for_the_next_one_and_close_drains_the_rest():
    calls: list[list[int]] = []
    first_started, release_first = threading.Event(), threading.Event()

    def follow_up(keys: list[int]) -> None:
        calls.append(keys)
        if len(calls) == 1:
            first_started.set()
            assert release_first.wait(5)

    coalescer = Coalescer(follow_up, name="test-follow-up")
    coalescer.add([3])
    assert first_started.wait(5)
    coalescer.add([2, 1])  # while the first pass runs: both wait, then go together, sorted
    coalescer.add([2])
    release_first.set()
    coalescer.close()
    assert calls == [[3], [1, 2]]


def test_a_failing_follow_up_is_logged_and_the_thread_keeps_going(caplog):
    seen: list[list[int]] = []
    done = threading.Event()

    def follow_up(keys: list[int]) -> None:
        seen.append(keys)
        if keys == [1]:
            raise RuntimeError("boom")
        done.set()

    coalescer = Coalescer(follow_up, name="test-follow-up")
    coalescer.add([1])
    while not seen:
        threading.Event().wait(0.01)
    coalescer.add([2])
    assert done.wait(5)
    coalescer.close()
    assert seen == [[1], [2]]
    assert "test-follow-up failed for [1]" in caplog.text
