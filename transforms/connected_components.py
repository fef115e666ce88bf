"""Connected components of an edge list in Beam: alternating large-star / small-star (Kiveris et al., 2014).

Every step is a ``GroupByKey`` by node, so no worker ever sees all edges.
Nodes may be anything totally ordered and hashable; each component converges
to its *smallest* node, which is what makes the de-duplication's choice of
the copy to keep (:func:`~provsieve.transforms.keep_rule.keep_key`) fall out
of the clustering itself.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Optional, TypeVar

import apache_beam as beam
from apache_beam.metrics import Metrics

Node = TypeVar("Node", bound=Hashable)


def large_star(node: Node, neighbours: Iterable[Node]) -> tuple[list[tuple[Node, Node]], bool]:
    """Link every larger neighbour to the smallest of the node's closed neighbourhood.

    Returns the new edges ``(v, m)`` and whether the node's neighbourhood is not
    yet a star (it has neighbours on both sides, or several smaller ones).
    """
    nbrs = set(neighbours)
    nbrs.discard(node)
    m = min(nbrs | {node})
    smaller = sum(1 for v in nbrs if v < node)
    unsettled = smaller > 1 or (smaller == 1 and len(nbrs) > 1)
    return [(v, m) for v in nbrs if v > node], unsettled


def small_star(node: Node, smaller_neighbours: Iterable[Node]) -> list[tuple[Node, Node]]:
    """Link the node and its smaller neighbours to the smallest of them."""
    nbrs = set(smaller_neighbours)
    nbrs.add(node)
    m = min(nbrs)
    return [(v, m) for v in nbrs if v != m]


class _LargeStar(beam.PTransform):
    def __init__(self, unsettled_counter: Optional[tuple[str, str]] = None):
        super().__init__()
        self._unsettled_counter = unsettled_counter

    def expand(self, edges):
        counter = Metrics.counter(*self._unsettled_counter) if self._unsettled_counter else None

        def reduce(item):
            new_edges, unsettled = large_star(*item)
            if unsettled and counter is not None:
                counter.inc()
            return new_edges

        return (edges
                | "Both" >> beam.FlatMap(lambda e: (e, (e[1], e[0])))
                | "Group" >> beam.GroupByKey()
                | "Star" >> beam.FlatMap(reduce))


class _SmallStar(beam.PTransform):
    def expand(self, edges):
        return (edges
                | "Orient" >> beam.Map(lambda e: (e, e[::-1])[e[0] < e[1]])
                | "Group" >> beam.GroupByKey()
                | "Star" >> beam.FlatMapTuple(small_star))


class ComponentRoots(beam.PTransform):
    """PCollection of edges ``(a, b)`` -> ``(node, root)`` for every node but the root of each component.

    ``rounds`` large-star / small-star pairs are unrolled (a pipeline graph is
    static); a last large-star turns the settled stars into ``(member, root)``
    pairs and counts, in the counter ``unsettled_counter`` (namespace, name),
    the nodes that had not settled yet: a non-zero count means ``rounds`` was
    too small for the graph's diameter.
    """

    def __init__(self, rounds: int = 6, unsettled_counter: Optional[tuple[str, str]] = None):
        super().__init__()
        self._rounds = rounds
        self._unsettled_counter = unsettled_counter

    def expand(self, edges):
        for i in range(self._rounds):
            edges = (edges
                     | f"LargeStar{i}" >> _LargeStar()
                     | f"SmallStar{i}" >> _SmallStar())
        return (edges
                | "FinalLargeStar" >> _LargeStar(self._unsettled_counter)
                | "Root" >> beam.CombinePerKey(min))
