"""Connected components in Beam (large-star / small-star), against union-find."""

import random

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from provsieve.transforms.connected_components import ComponentRoots, large_star, small_star


def _union_find(edges):
    parent = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in parent if find(x) != x}


def test_large_star_reports_unsettled():
    assert large_star(5, [1, 9]) == ([(9, 1)], True)
    assert large_star(1, [5, 9])[1] is False
    assert large_star(9, [1])[1] is False


def test_small_star_links_the_node_and_its_smaller_neighbours_to_the_smallest():
    assert sorted(small_star(5, [3, 1, 3])) == [(3, 1), (5, 1)]
    assert small_star(5, []) == []


def _graph():
    rng = random.Random(5)
    edges = [(i, i + 1) for i in range(0, 40)]  # a long chain
    edges += [(100, 100 + i) for i in range(1, 30)]  # a star
    edges += [(rng.randrange(200, 400), rng.randrange(200, 400)) for _ in range(250)]
    return [(a, b) for a, b in edges if a != b]


def test_component_roots_in_beam_match_union_find_and_settle():
    edges = _graph()
    p = BeamTestPipeline(runner=FnApiRunner())
    roots = p | beam.Create(edges) | ComponentRoots(rounds=8, unsettled_counter=("test_cc", "unsettled"))
    assert_that(roots, equal_to(list(_union_find(edges).items())))
    result = p.run()
    result.wait_until_finish()
    counters = result.metrics().query(MetricsFilter().with_name("unsettled"))["counters"]
    assert sum(c.committed for c in counters) == 0


def test_component_roots_count_unsettled_nodes_when_rounds_are_too_few():
    chain = [(i, i + 1) for i in range(64)]
    p = BeamTestPipeline(runner=FnApiRunner())
    _ = p | beam.Create(chain) | ComponentRoots(rounds=1, unsettled_counter=("test_cc", "unsettled"))
    result = p.run()
    result.wait_until_finish()
    counters = result.metrics().query(MetricsFilter().with_name("unsettled"))["counters"]
    assert sum(c.committed for c in counters) > 0
