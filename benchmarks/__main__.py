"""python -m benchmarks [SECTION ...] — print every table and write benchmarks/RESULTS.md.

Sections: quality, speed, scaling, logging, inbox, telegram, memory (default: all but memory,
which takes a few minutes). Everything runs in this one process (telegram and memory
start the real bot as a subprocess against the stand-in Bot API server), so the figures
in one run are comparable; the machine is noisy, so compare ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

from benchmarks import baselines, core, quality
from bot.evaluation import DEFAULT_QUESTIONS, load_cases
from bot.pipeline import Pipeline

OUT = Path(__file__).resolve().parent / "RESULTS.md"
SECTIONS = ("quality", "speed", "scaling", "logging", "inbox", "telegram", "profile", "memory")


def md_table(headers: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def run_quality(pipeline: Pipeline, cases: list) -> str:
    cases = quality.standalone(cases)
    results = [quality.regenbot_quality(pipeline, cases)]
    for make in (baselines.rapidfuzz_wratio, baselines.tfidf_char, baselines.bm25):
        try:
            results.append(quality.baseline_quality(make(pipeline.kb), cases))
        except ImportError as exc:
            print(f"  (skipped {make.__name__}: {exc}; pip install -e '.[bench]')", file=sys.stderr)
    rows = [
        [
            r.name,
            f"{r.in_scope:.1%}",
            f"{r.out_of_scope:.1%}",
            f"{r.macro_f1:.3f}",
            "-" if r.threshold is None else f"{r.threshold:.0f} (best for it)",
        ]
        for r in results
    ]
    n_in = sum(c.kind == "in" for c in cases)
    return (
        f"### Matching quality ({len(cases)} questions: {n_in} in scope, {len(cases) - n_in} out of scope; "
        "follow-ups left out because the baselines have no memory)\n\n"
        + md_table(["matcher", "in-scope correct intent", "out-of-scope rejected", "macro F1", "threshold"], rows)
    )


def run_speed(pipeline: Pipeline, questions: list[str], repeat: int) -> str:
    load_s, build_s = core.load_time()
    fuzzy = baselines.rapidfuzz_wratio(pipeline.kb)
    ours = core.latency_row(
        "regenbot pipeline (normalise, match, compose)", core.time_each(core.pipeline_fn(pipeline), questions, repeat)
    )
    cold = core.latency_row(
        "regenbot pipeline, spelling cache cleared before each question",
        core.time_each(core.pipeline_fn(pipeline, cold=True), questions, repeat),
    )
    base = core.latency_row(
        "baseline: rapidfuzz extractOne WRatio (match only)", core.time_each(fuzzy.predict, questions, repeat)
    )
    rows = [[r["name"], f"{r['qps']:,.0f}", f"{r['p50']:.3f}", f"{r['p99']:.3f}", r["n"]] for r in (ours, cold, base)]
    ratio = base["p99"] / ours["p99"] if ours["p99"] else 0.0
    return (
        "### Speed of the core pipeline\n\n"
        + md_table(["what", "questions/s", "p50 ms", "p99 ms", "samples"], rows)
        + f"\n\nKnowledge base load and validation: {load_s * 1000:.0f} ms; pipeline build: "
        f"{build_s * 1000:.0f} ms. The whole pipeline's p99 is {ratio:.2f}x the baseline's match-only p99 "
        "(>1 means regenbot is faster)."
    )


def run_scaling(pipeline: Pipeline, questions: list[str], repeat: int) -> str:
    rows = core.scaling(pipeline.kb, questions, (1, 10, 100, 1000), repeat)
    base = rows[0]["p99"]
    table = [
        [
            r["name"],
            f"{r['intents']:,}",
            f"{r['build_s']:.2f}",
            f"{r['qps']:,.0f}",
            f"{r['p50']:.3f}",
            f"{r['p99']:.3f}",
            f"{r['p99'] / base:.1f}x",
        ]
        for r in rows
    ]
    return (
        "### Scaling with a synthetically grown knowledge base (synthetic intents, marked `syn`; "
        "spelling cache cleared before each question)\n\n"
        + md_table(["size", "intents", "build s", "questions/s", "p50 ms", "p99 ms", "p99 vs 1x"], table)
    )


def run_logging(pipeline: Pipeline, questions: list[str], repeat: int) -> str:
    r = core.logging_cost(pipeline.kb, questions, repeat)
    rows = [
        ["without log", f"{r['p50_without']:.3f}", f"{r['p99_without']:.3f}"],
        ["with SQLite query log", f"{r['p50_with']:.3f}", f"{r['p99_with']:.3f}"],
    ]
    return (
        "### Cost of logging on the answer path (same process, interleaved)\n\n"
        + md_table(["answer path", "p50 ms", "p99 ms"], rows)
        + f"\n\nAdded latency: p50 {r['p50_with'] - r['p50_without']:+.3f} ms, "
        f"p99 {r['p99_with'] - r['p99_without']:+.3f} ms. Batched writer sustains "
        f"{r['writes_per_s']:,.0f} log writes/s (50,000 queued records flushed to SQLite in WAL mode)."
    )


def run_inbox() -> str:
    from benchmarks import inbox

    r = inbox.cost()
    return (
        "### Durable inbox, per update (one file, the bot's own operations, no network)\n\n"
        + md_table(
            ["operation", "p50", "p99"],
            [
                [
                    "store a getUpdates batch of 100 (one commit)",
                    f"{r['store_batch_p50_ms']:.2f} ms",
                    f"{r['store_batch_p99_ms']:.2f} ms",
                ],
                [
                    "mark 'sending' before the reply is written",
                    f"{r['sending_p50_us']:.0f} µs",
                    f"{r['sending_p99_us']:.0f} µs",
                ],
                ["mark 'handled' (payload wiped)", f"{r['handled_p50_us']:.0f} µs", f"{r['handled_p99_us']:.0f} µs"],
            ],
        )
        + f"\n\nAll three together: {r['per_update_us']:.0f} µs of the event loop per update "
        f"({r['updates']:,} updates)."
    )


def run_telegram() -> str:
    from benchmarks import telegram_load

    runs = sorted((telegram_load.burst() for _ in range(3)), key=lambda run: run["ups"])
    r = runs[1]  # the median run of three: one burst is at the mercy of the machine's noise
    return (
        "### Telegram end to end (real `regenbot run` subprocess against the stand-in Bot API server)\n\n"
        + md_table(
            ["what", "value"],
            [
                ["burst", f"{r['updates']} questions from {r['users']} users"],
                ["answered", f"{r['answered']}/{r['updates']}"],
                [
                    "updates answered per second (median of 3 bursts; range)",
                    f"{r['ups']:.0f} ({runs[0]['ups']:.0f}-{runs[2]['ups']:.0f})",
                ],
                ["update -> sendMessage during the burst (queueing included), median", f"{r['p50_ms']:.0f} ms"],
                ["update -> sendMessage during the burst, p99", f"{r['p99_ms']:.0f} ms"],
                ["update -> sendMessage, one question at a time, median", f"{r['single_p50_ms']:.1f} ms"],
                ["update -> sendMessage, one question at a time, p99", f"{r['single_p99_ms']:.1f} ms"],
                ["stand-in server ceiling (sendMessage/s from one client, same process)", f"{r['ceiling']:.0f}"],
            ],
        )
    )


def run_profile() -> str:
    from benchmarks import telegram_load

    shares = telegram_load.profile()
    rows = [[name, f"{share:.0%}"] for name, share in shares]
    return (
        "### Where the bot's time goes per message "
        "(cProfile of `regenbot run` over start-up and a 2,000-question burst)\n\n"
        + md_table(["part", "share of CPU time in the main thread"], rows)
    )


def run_memory() -> str:
    from benchmarks import telegram_load

    r = telegram_load.memory()
    rows = [[f"{n:,}", f"{mb:.1f}"] for n, mb in r["points"]]
    return (
        "### Resident memory of the bot process, distinct users each asking two questions\n\n"
        + md_table(["users so far", "RSS MB"], rows)
        + f"\n\nGrowth from user 5,000 to 10,000: {r['growth_mb']:+.1f} MB."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument(
        "sections", nargs="*", metavar="SECTION", help=f"{', '.join(SECTIONS)}; default: all but memory"
    )
    parser.add_argument("--repeat", type=int, default=5, help="passes over the question set for timings")
    parser.add_argument("--out", type=Path, default=OUT, help="Markdown file to write")
    args = parser.parse_args(argv)
    unknown = [s for s in args.sections if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    chosen = args.sections or [s for s in SECTIONS if s != "memory"]
    pipeline = Pipeline.from_directory()
    cases = load_cases(DEFAULT_QUESTIONS)
    questions = [c.q for c in cases]
    parts = [
        f"# regenbot benchmarks\n\nCommand: `python -m benchmarks {' '.join(chosen)}`. "
        f"Machine: {platform.machine()}, Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}."
    ]
    runners = {
        "quality": lambda: run_quality(pipeline, cases),
        "speed": lambda: run_speed(pipeline, questions, args.repeat),
        "scaling": lambda: run_scaling(pipeline, questions, args.repeat),
        "logging": lambda: run_logging(pipeline, questions, args.repeat),
        "inbox": run_inbox,
        "telegram": run_telegram,
        "profile": run_profile,
        "memory": run_memory,
    }
    for section in chosen:
        started = time.perf_counter()
        text = runners[section]()
        print(text + f"\n\n({section}: {time.perf_counter() - started:.1f} s)\n", flush=True)
        parts.append(text)
    args.out.write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
