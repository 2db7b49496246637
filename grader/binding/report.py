"""The binding in words, for the report and the JSON's `binding`: what the grader called, and why that."""

from __future__ import annotations

from ..feedback import Bound
from ..i18n import t
from ..protocol import LayoutFrame, LoadFrame
from ..spec import Assignment
from . import Decision

HOW = {"option": "binding.how.option", "name": "binding.how.name", "spelling": "binding.how.spelling",
       "similar": "binding.how.similar", "called": "binding.how.called"}  # roles.HOW, in words


def described(a: Assignment, d: Decision, load: LoadFrame, layout: LayoutFrame | None) -> dict[str, Bound]:
    out: dict[str, Bound] = {}
    weights = _weights(a, d, layout)
    if weights is not None:
        out["weights"] = weights
    instance = d.binding.instance
    owner = f"{instance.cls}()." if instance is not None else ""  # a method, called on a fresh instance
    signatures = load.through(instance.cls).functions if instance is not None else load.functions
    for role, found in d.found.items():
        how = t(HOW[found.how], accepted=a.roles[role].names[0])
        if instance is not None:
            how += t("common.paren", text=t("binding.how.method", cls=instance.cls))
        call = d.binding.calls.get(role)
        name = f"{instance.cls}.{found.function}" if instance is not None else found.function
        if call is None:
            out[role] = Bound(name=name, how=how)
            continue
        params = signatures[found.function].params
        shown = [p if p == k else f"{p}={k}" for p, k in zip(params, call.args)]
        out[role] = Bound(name=name, call=f"{owner}{found.function}({', '.join(shown)})", how=how)
    if "update" in a.roles and "update" not in out and d.data:
        out["training"] = Bound(name="__main__", how=t("binding.how.loop", data=t("common.names").join(d.data)))
    return out


def _weights(a: Assignment, d: Decision, layout: LayoutFrame | None) -> Bound | None:
    w = d.weights
    if w.packed is not None:
        if layout is not None and layout.order:
            return Bound(name=w.packed, how=t("binding.how.packed_read", order=t("common.names").join(layout.order)))
        return Bound(name=w.packed, how=t("binding.how.packed", order=t("common.names").join(a.weights)))
    if w.names:
        names = [w.names[k] for k in a.weights if k in w.names]
        mapping = t("common.names").join(f"{w.names[k]} = {k}" for k in a.weights if k in w.names)
        how = t("binding.how.weights_named") if all(w.names[k] == k for k in w.names) else \
            t("binding.how.weights_renamed", mapping=mapping)
        shown = f"{names[0]}..{names[-1]}" if len(names) > 3 else t("common.names").join(names)
        return Bound(name=shown, how=how)
    return None
