"""Metric names referenced by PromQL expressions, and where deploy/ uses them.

metric_names(expr) returns the metric names an expression selects: every
identifier that is not a function call, a keyword, an aggregation modifier's
label list, a label matcher, a string, a range or a number. Grafana's
variables ($job, $__rate_interval, ${x}) only occur inside matchers, ranges
or strings and are stripped with them. Histogram series keep their suffix
(name_bucket); family() maps them back to the family name.

dashboard_exprs(path) / rule_exprs(path) return (where, expr) pairs.
`python3 promql_names.py FILE...` prints the names (a debugging aid).
"""
import json
import re
import sys

KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "offset", "bool", "inf", "nan", "atan2", "start", "end",
}
_LABEL_LIST_WORDS = r"(?:by|without|on|ignoring|group_left|group_right)"
_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def _strip(expr):
    out = expr
    # Strings first (they may hold braces or brackets).
    out = re.sub(r'"(?:[^"\\]|\\.)*"', '""', out)
    out = re.sub(r"'(?:[^'\\]|\\.)*'", "''", out)
    out = re.sub(r"`[^`]*`", "``", out)
    # Label matchers, ranges / subqueries, modifiers' label lists.
    out = re.sub(r"\{[^{}]*\}", " ", out)
    out = re.sub(r"\[[^\[\]]*\]", " ", out)
    out = re.sub(_LABEL_LIST_WORDS + r"\s*\([^()]*\)", " ", out)
    # offset 30m, @ 123
    out = re.sub(r"\boffset\s+-?[0-9a-z]+", " ", out)
    out = re.sub(r"@\s*[0-9.()a-z]+", " ", out)
    return out


def metric_names(expr):
    stripped = _strip(expr)
    names = set()
    for match in _IDENT.finditer(stripped):
        word = match.group(0)
        start, end = match.span()
        if start > 0 and (stripped[start - 1].isdigit() or stripped[start - 1] in ".$"):
            continue  # part of a number (1e3, 0.5) or a variable
        if word.lower() in KEYWORDS:
            continue
        rest = stripped[end:].lstrip()
        if rest.startswith("("):
            continue  # a function or an aggregation
        names.add(word)
    return names


def family(name):
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def dashboard_exprs(path):
    """(where, expr) for every panel target and every query variable."""
    with open(path) as f:
        dashboard = json.load(f)
    found = []

    def panels(items):
        for panel in items:
            yield panel
            yield from panels(panel.get("panels", []))

    for panel in panels(dashboard.get("panels", [])):
        for target in panel.get("targets", []):
            if target.get("expr"):
                found.append((f"panel {panel.get('title')!r} {target.get('refId')}", target["expr"]))
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        query = variable.get("query")
        if isinstance(query, dict):
            query = query.get("query")
        # label_values(metric{...}, label) / query_result(expr) / metrics(regex)
        m = re.match(r"\s*label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$", query or "")
        if m:
            found.append((f"variable {variable['name']!r}", m.group(1)))
        else:
            m = re.match(r"\s*query_result\((.*)\)\s*$", query or "")
            if m:
                found.append((f"variable {variable['name']!r}", m.group(1)))
    return found


def rule_exprs(path):
    import yaml
    with open(path) as f:
        rules = yaml.safe_load(f)
    found = []
    for group in rules.get("groups", []):
        for rule in group.get("rules", []):
            name = rule.get("alert") or rule.get("record")
            found.append((f"rule {name}", rule["expr"]))
    return found


def self_test():
    cases = {
        'sum by (state) (cluedrop_coordinator_jobs{job=~"$job"})': {"cluedrop_coordinator_jobs"},
        'histogram_quantile(0.99, sum by (le, method) (rate(x_seconds_bucket{job=~"$job"}[$__rate_interval])))':
            {"x_seconds_bucket"},
        'a > 0 and on (job, instance) sum by (job) (increase(b_total[15m])) == 0': {"a", "b_total"},
        'min_over_time(busy[30m]) == 1 and on (job) (busy offset 30m) == 1': {"busy"},
        '60 * sum(rate(c_total{code!="OK", x="a{b}"}[1m])) / 1e3': {"c_total"},
        'up{job=~"cluedrop-(coordinator|scorer)"} == 0': {"up"},
        'delta(g{state="failed"}[10m]) > 0': {"g"},
        'sum(rate(s_sum[5m])) / sum(rate(s_count[5m]))': {"s_sum", "s_count"},
    }
    for expr, want in cases.items():
        got = metric_names(expr)
        if got != want:
            raise AssertionError(f"metric_names({expr!r}) = {sorted(got)}, want {sorted(want)}")
    assert family("a_seconds_bucket") == "a_seconds" and family("a_total") == "a_total"


if __name__ == "__main__":
    self_test()
    for path in sys.argv[1:]:
        pairs = dashboard_exprs(path) if path.endswith(".json") else rule_exprs(path)
        for where, expr in pairs:
            print(f"{path}: {where}: {sorted(metric_names(expr))}")
