"""One function per check id: each turns the child's observations into a verdict, in the parent.

Every numeric check runs on the given case and the hidden cases; a check passes only when all of
them match. Each check names the checks whose verdicts it reads (`after`), and the order comes
from that. A check the submission's style cannot be judged on is `skipped` with no points at
stake; its points move to the first check of its `moves_to` (assignments/*.toml) that is judged,
so the whole is out of the assignment's total for every style.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from graphlib import TopologicalSorter

from ..feedback import CheckResult
from ..i18n import t
from ..spec import CHECK_IDS
from .evidence import Evidence
from .program import check_policy, check_runs
from .stages import check_forward, check_gradients, check_loss, check_update
from .training import check_training

__all__ = ["CHECKS", "Evidence", "judge"]


@dataclass(frozen=True)
class Check:
    run: Callable[[Evidence, Mapping[str, CheckResult]], CheckResult]
    after: tuple[str, ...] = ()  # the checks whose verdicts it reads


CHECKS: dict[str, Check] = {
    "runs": Check(check_runs),
    "forward": Check(check_forward),
    "loss": Check(check_loss),
    "gradients": Check(check_gradients, after=("forward", "loss")),  # own slopes where those failed
    "update": Check(check_update),
    "training": Check(check_training, after=("forward", "loss", "gradients", "update")),  # judges what they did not
    "policy": Check(check_policy),
}


def judge(ev: Evidence) -> list[CheckResult]:
    """Every check the assignment declares, each after those it reads, listed in contract order."""
    wanted = [c for c in CHECK_IDS if c in ev.a.checks]
    order = TopologicalSorter({c: [d for d in CHECKS[c].after if d in wanted] for c in wanted}).static_order()
    done: dict[str, CheckResult] = {}
    for check_id in order:
        done[check_id] = CHECKS[check_id].run(ev, done)
    return moved([done[c] for c in wanted], ev)


def moved(results: list[CheckResult], ev: Evidence) -> list[CheckResult]:
    """Give each skipped check's points to the first check of its `moves_to` that was judged (its score scaled
    with them). Where none was, nothing in the file could be judged for that work: the check fails at its own
    points instead (a file must not earn them by running)."""
    by_id = {r.id: r for r in results}
    extra = {r.id: 0.0 for r in results}
    unjudged: set[str] = set()
    for r in results:
        if r.status != "skipped":
            continue
        judged = [c for c in ev.a.checks[r.id].moves_to if c in by_id and by_id[c].status != "skipped"]
        if judged:
            extra[judged[0]] += ev.a.checks[r.id].points
        else:
            unjudged.add(r.id)
    out = []
    for r in results:
        if r.id in unjudged:
            points = ev.a.checks[r.id].points
            r = r.model_copy(update={"status": "fail", "max_score": points, "score": 0.0, "hints": ev.hint(r.id),
                                     "message": r.message + "\n" + t("checks.unjudged")})
        elif extra[r.id]:
            share = r.score / r.max_score if r.max_score else float(r.status == "pass")
            total = r.max_score + extra[r.id]
            r = r.model_copy(update={"max_score": total, "score": share * total})
        out.append(r)
    return out
