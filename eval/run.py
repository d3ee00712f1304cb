"""`make eval`: nDCG@10 and MRR of every rerank engine on the graded set, per group.

Then how well calibrated each engine's scores are, raw and as the server sends
them (`eval.calibrate`, `together_rerank.server.calibration`).

Each engine scores each case's candidates through the same `Engine.score` the
server calls; ir-measures (on pytrec_eval, the trec_eval implementation)
computes the metrics from the graded judgements. MRR counts a document as
relevant from grade 2 up. Usage:
``python -m eval.run [--engine NAME ...] [--cases FILE.jsonl]``; the cases come
from ``eval/cases.jsonl`` unless ``--cases`` names another file (`eval.dataset`).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable, Sequence

import ir_measures
from ir_measures import RR, Qrel, ScoredDoc, nDCG

from eval.calibrate import calibration_table
from eval.dataset import DEFAULT_PATH, Case, DatasetError, load_cases
from together_rerank.server.engines import get_engine, installed

MEASURES = [nDCG @ 10, RR(rel=2)]
NAMES = {str(nDCG @ 10): "nDCG@10", str(RR(rel=2)): "MRR"}
DEFAULT_ENGINES = ["bm25", "minilm"]


def qrels(selected: Iterable[Case]) -> list[Qrel]:
    """The graded judgements, one per (case, candidate)."""
    return [
        Qrel(case.id, str(i), grade)
        for case in selected
        for i, (_, grade) in enumerate(case.documents)
    ]


def run(engine: str, selected: Sequence[Case]) -> tuple[list[ScoredDoc], float]:
    """Every candidate's score under `engine`, and the seconds scoring took."""
    scorer = get_engine(engine)
    started = time.perf_counter()
    scored = [
        ScoredDoc(case.id, str(i), score)
        for case in selected
        for i, score in enumerate(scorer.score(case.query, [text for text, _ in case.documents]))
    ]
    return scored, time.perf_counter() - started


def table(engines: Sequence[str], every: Sequence[Case]) -> str:
    """A markdown table: one row per engine and group, then each engine over every case."""
    groups = sorted({case.group for case in every}, key=[c.group for c in every].index)
    judged = qrels(every)
    lines = [
        f"{len(every)} queries, {sum(len(c.documents) for c in every)} graded candidates",
        "",
        "| engine | group | queries | nDCG@10 | MRR | scoring time |",
        "|---|---|---|---|---|---|",
    ]
    raw: dict[str, list[float]] = {}
    for engine in engines:
        scored, seconds = run(engine, every)
        raw[engine] = [s.score for s in scored]
        for group in [*groups, "all"]:
            ids = {c.id for c in every if group in ("all", c.group)}
            values = ir_measures.calc_aggregate(
                MEASURES,
                [q for q in judged if q.query_id in ids],
                [s for s in scored if s.query_id in ids],
            )
            metrics = {NAMES[str(m)]: v for m, v in values.items()}
            timing = f"{seconds:.2f} s" if group == "all" else ""
            lines.append(
                f"| {engine} | {group} | {len(ids)} | {metrics['nDCG@10']:.3f} "
                f"| {metrics['MRR']:.3f} | {timing} |"
            )
    return "\n".join([*lines, "", calibration_table(raw, every)])


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table for the engines asked for (default: bm25 and, if installed, minilm)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--engine", action="append", help="an engine name (repeatable)")
    parser.add_argument(
        "--cases",
        default=str(DEFAULT_PATH),
        metavar="FILE",
        help="the graded cases, JSON Lines (default: eval/cases.jsonl)",
    )
    args = parser.parse_args(argv)
    try:
        every = load_cases(args.cases)
    except DatasetError as exc:
        print(f"eval: {exc}", file=sys.stderr)
        return 2
    engines = args.engine or [e for e in DEFAULT_ENGINES if installed(e)]
    print(table(engines, every))
    return 0


if __name__ == "__main__":
    sys.exit(main())
