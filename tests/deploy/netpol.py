"""A small evaluator of Kubernetes NetworkPolicy semantics (networking.k8s.io/v1,
TCP, no ipBlock): may a pod with these labels in that namespace open a TCP
connection to another pod on a port? Both sides must allow it: the policies
selecting the source with policyType Egress, and those selecting the
destination with policyType Ingress (a pod no policy of that type selects is
open in that direction).

Example:
    pods = Pod("cluedrop", {"app.kubernetes.io/component": "scorer"})
    allowed(policies, scorer, trainer, 29500)  # -> False
"""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: dict = field(default_factory=dict)

    def namespace_labels(self):
        return {"kubernetes.io/metadata.name": self.namespace}


def selects(selector, labels):
    """A LabelSelector (None or {} selects everything)."""
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for e in selector.get("matchExpressions") or []:
        key, op, values = e["key"], e["operator"], e.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            raise ValueError(f"unknown selector operator {op}")
    return True


def peer_matches(peer, policy_namespace, pod):
    if "ipBlock" in peer:
        raise ValueError("ipBlock peers are not evaluated")
    pod_selector = peer.get("podSelector")
    ns_selector = peer.get("namespaceSelector")
    if ns_selector is None:
        return pod.namespace == policy_namespace and selects(pod_selector, pod.labels)
    return selects(ns_selector, pod.namespace_labels()) and selects(pod_selector, pod.labels)


def port_matches(ports, port):
    if not ports:
        return True
    for p in ports:
        if p.get("protocol", "TCP") != "TCP":
            continue
        if "port" not in p or p["port"] == port or (p.get("endPort") and p["port"] <= port <= p["endPort"]):
            return True
    return False


def direction_allows(policies, subject, other, port, kind):
    """kind "Ingress": `other` connects to `subject`; "Egress": `subject` connects to `other`."""
    applying = [p for p in policies
                if p["metadata"]["namespace"] == subject.namespace
                and kind in p["spec"].get("policyTypes", ["Ingress"])
                and selects(p["spec"].get("podSelector"), subject.labels)]
    if not applying:
        return True
    key, peers_key = ("ingress", "from") if kind == "Ingress" else ("egress", "to")
    for p in applying:
        for rule in p["spec"].get(key) or []:
            peers = rule.get(peers_key)
            if peers and not any(peer_matches(x, p["metadata"]["namespace"], other) for x in peers):
                continue
            if port_matches(rule.get("ports"), port):
                return True
    return False


def allowed(policies, source, destination, port):
    return (direction_allows(policies, source, destination, port, "Egress")
            and direction_allows(policies, destination, source, port, "Ingress"))
