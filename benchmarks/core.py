"""Speed of the core pipeline, its scaling with the knowledge base, and logging's cost."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.synthetic import base_intents, grow
from bot.core.knowledge import Knowledge
from bot.core.loader import load_knowledge
from bot.pipeline import DEFAULT_KNOWLEDGE_DIR, Pipeline
from bot.querylog.pseudonym import Pseudonymizer
from bot.querylog.writer import QueryLog


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def time_each(fn: Callable[[str], object], questions: list[str], repeat: int) -> list[float]:
    """Milliseconds per call, after one warm-up pass."""
    for q in questions:
        fn(q)
    out = []
    for _ in range(repeat):
        for q in questions:
            start = time.perf_counter_ns()
            fn(q)
            out.append((time.perf_counter_ns() - start) / 1e6)
    return out


def latency_row(name: str, samples: list[float]) -> dict[str, object]:
    total = sum(samples) / 1000
    return {
        "name": name,
        "qps": len(samples) / total if total else 0.0,
        "p50": percentile(samples, 50),
        "p99": percentile(samples, 99),
        "n": len(samples),
    }


def load_time(repeat: int = 5) -> tuple[float, float]:
    """(seconds to load and validate the YAML, seconds to build the pipeline), medians."""
    loads, builds = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        kb = load_knowledge(DEFAULT_KNOWLEDGE_DIR)
        loads.append(time.perf_counter() - start)
        start = time.perf_counter()
        Pipeline(kb)
        builds.append(time.perf_counter() - start)
    return statistics.median(loads), statistics.median(builds)


def pipeline_fn(pipeline: Pipeline, *, cold: bool = False) -> Callable[[str], object]:
    """``cold`` clears the spelling-correction cache before every question: the worst case,
    as if every typo were new."""
    counter = iter(range(10**12))
    clear = pipeline.matcher.lexicon.clear_cache

    def ask(q: str) -> object:
        if cold:
            clear()
        n = next(counter)
        return pipeline.ask(q, conversation=n % 64)  # exercise the context store too

    return ask


def scaling(kb: Knowledge, questions: list[str], factors: tuple[int, ...], repeat: int) -> list[dict[str, object]]:
    rows = []
    for factor in factors:
        start = time.perf_counter()
        grown = grow(kb, factor)
        pipeline = Pipeline(grown)
        build = time.perf_counter() - start
        samples = time_each(
            pipeline_fn(pipeline, cold=True), questions, repeat if factor < 1000 else max(1, repeat // 3)
        )
        row = latency_row(f"{factor}x", samples)
        row.update(intents=base_intents(grown), build_s=build)
        rows.append(row)
    return rows


def logging_cost(kb: Knowledge, questions: list[str], repeat: int) -> dict[str, float]:
    """Per-answer latency with the SQLite query log versus without, same process, interleaved."""

    async def run() -> dict[str, float]:
        with tempfile.TemporaryDirectory() as tmp:
            qlog = QueryLog(Path(tmp) / "bench.sqlite3", Pseudonymizer(b"k" * 64), interval=0.05)
            await qlog.open()
            logged, plain = Pipeline(kb, sink=qlog), Pipeline(kb)
            with_log, without = [], []
            for _ in range(repeat):
                for q in questions:
                    for pipeline, bucket in ((plain, without), (logged, with_log)):
                        start = time.perf_counter_ns()
                        pipeline.ask(q, user=123456789, conversation=1)
                        bucket.append((time.perf_counter_ns() - start) / 1e6)
                await asyncio.sleep(0)  # let the writer run between passes, as a live bot would
            # Sustained writes: enqueue a large batch and time until it is on disk.
            burst = 50_000
            for i in range(burst):
                logged.ask(questions[i % len(questions)], user=i, conversation=i)
            start = time.perf_counter()
            await qlog.flush()
            flush_s = time.perf_counter() - start
            await qlog.close()
            return {
                "p50_without": percentile(without, 50),
                "p99_without": percentile(without, 99),
                "p50_with": percentile(with_log, 50),
                "p99_with": percentile(with_log, 99),
                "writes_per_s": burst / flush_s,
                "n": len(with_log),
            }

    return asyncio.run(run())
