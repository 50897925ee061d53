"""A small PromQL reader: the metric names and label names an expression uses.

It tokenizes the expression (strings, numbers and durations, identifiers, operators)
and walks the tokens with the few rules that tell a metric from the rest of the
language (Prometheus documentation, "Querying basics" and "Operators"):

- an identifier followed by ``(`` is a function; an aggregation's name is never a
  metric (``sum by (le) (...)``); a grouping keyword (``by``, ``without``, ``on``,
  ``ignoring``, ``group_left``, ``group_right``) is followed by a list of labels;
- inside ``{...}`` each matcher is ``label op "value"``, and the label is used;
  ``{__name__="m"}`` names the metric ``m``;
- inside ``[...]`` are range durations (and Grafana's ``$__rate_interval``);
- any other identifier that is not a keyword (``bool``, ``offset``, ``and``, ``or``,
  ``unless``, ``inf``, ``nan``) is a metric name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)
  | (?P<duration>\d+(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*)
  | (?P<number>0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<variable>\$\{?\w+\}?)
  | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<op>=~|!~|!=|==|<=|>=|[-+*/%^<>=,(){}\[\]@:])
    """,
    re.VERBOSE,
)
GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
KEYWORDS = {"bool", "offset", "and", "or", "unless", "inf", "nan", "atan2"}
# Aggregations may take their grouping before the parenthesis: ``sum by (le) (...)``.
AGGREGATIONS = {
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "limitk",
    "limit_ratio",
}


class PromQLSyntaxError(ValueError):
    pass


@dataclass
class Uses:
    """What one expression refers to: each selector's metric with the labels its
    matchers name, and the labels its grouping clauses name."""

    selectors: list[tuple[str, set[str]]] = field(default_factory=list)
    grouping: set[str] = field(default_factory=set)

    @property
    def metrics(self) -> set[str]:
        return {name for name, _ in self.selectors}


def tokens(expr: str) -> list[tuple[str, str]]:
    found, at = [], 0
    while at < len(expr):
        match = TOKEN.match(expr, at)
        if match is None:
            raise PromQLSyntaxError(f"unexpected {expr[at : at + 10]!r} at {at} in {expr!r}")
        if match.lastgroup != "space":
            found.append((match.lastgroup or "", match.group()))
        at = match.end()
    return found


def uses(expr: str) -> Uses:
    """The metrics and labels ``expr`` uses."""
    toks, found, i = tokens(expr), Uses(), 0
    while i < len(toks):
        kind, text = toks[i]
        following = toks[i + 1][1] if i + 1 < len(toks) else ""
        if kind == "ident" and text in GROUPING:
            i = _label_list(toks, i + 1, found.grouping) if following == "(" else i + 1
        elif kind == "ident" and (following == "(" or text in AGGREGATIONS):
            i += 1  # a function or an aggregation
        elif kind == "ident" and text.lower() not in KEYWORDS:
            labels: set[str] = set()
            i = _matchers(toks, i + 1, labels) if following == "{" else i + 1
            found.selectors.append((text, labels))
        elif text == "{":  # a selector without a name: {__name__="m", ...}
            labels = set()
            names: list[str] = []
            i = _matchers(toks, i, labels, names)
            found.selectors.extend((name, labels - {"__name__"}) for name in names)
        elif text == "[":
            i = _skip_to(toks, i, "]")
        else:
            i += 1
    return found


def _label_list(toks: list[tuple[str, str]], i: int, into: set[str]) -> int:
    end = _skip_to(toks, i, ")")
    into.update(text for kind, text in toks[i + 1 : end - 1] if kind == "ident")
    return end


def _matchers(
    toks: list[tuple[str, str]], i: int, into: set[str], names: list[str] | None = None
) -> int:
    end = _skip_to(toks, i, "}")
    body = toks[i + 1 : end - 1]
    for at in range(0, len(body), 4):  # label, operator, "value", [","]
        label, op, value = body[at : at + 3]
        if label[0] != "ident" or op[1] not in {"=", "!=", "=~", "!~"} or value[0] != "string":
            raise PromQLSyntaxError(f"bad matcher {body[at : at + 3]}")
        into.add(label[1])
        if label[1] == "__name__" and names is not None:
            names.append(value[1][1:-1])
    return end


def _skip_to(toks: list[tuple[str, str]], i: int, closing: str) -> int:
    """The index after the ``closing`` that ends the bracket opened at ``i``."""
    for j in range(i + 1, len(toks)):
        if toks[j][1] == closing:
            return j + 1
    raise PromQLSyntaxError(f"unclosed {toks[i][1]!r}")
