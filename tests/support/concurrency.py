"""Clients at once: the calls of a race test run in threads released together by a barrier."""
from __future__ import annotations

import threading


def race(calls):
    """Run the calls (each a no-argument function) in parallel threads released together; their
    results in call order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i):
        barrier.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
