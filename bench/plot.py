#!/usr/bin/python3
"""Plots for the benchmark scripts (Debian's python3-matplotlib).

    plot.py relevance RESULTS.csv OUT.png   nDCG@10 by dataset and system
    plot.py latency RESULTS.csv OUT.png [XLABEL]
                                            p50 / p95 latency by query length and engine
                                            (x axis: XLABEL, default "query terms")
    plot.py recall RESULTS.csv OUT.png      recall@10 against queries per second
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def relevance(rows, out):
    datasets = sorted({r["dataset"] for r in rows})
    systems = sorted({r["system"] for r in rows})
    width = 0.8 / len(systems)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for i, system in enumerate(systems):
        values = [float(next((r["ndcg_at_10"] for r in rows if r["dataset"] == d and r["system"] == system), 0))
                  for d in datasets]
        bars = ax.bar([x + i * width for x in range(len(datasets))], values, width, label=system)
        ax.bar_label(bars, fmt="%.3f", fontsize=7)
    ax.set_xticks([x + width * (len(systems) - 1) / 2 for x in range(len(datasets))], datasets)
    ax.set_ylabel("nDCG@10")
    ax.set_title("Relevance: quarry_bm25 vs PostgreSQL ts_rank_cd")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def latency(rows, out, xlabel="query terms"):
    engines = []
    for r in rows:
        if r["engine"] not in engines:
            engines.append(r["engine"])
    buckets = []
    for r in rows:
        if r["terms"] not in buckets:
            buckets.append(r["terms"])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    for ax, stat in zip(axes, ["p50_ms", "p95_ms"]):
        for engine in engines:
            xs, ys = [], []
            for b in buckets:
                v = next((r[stat] for r in rows if r["engine"] == engine and r["terms"] == b), None)
                if v not in (None, ""):
                    xs.append(b)
                    ys.append(float(v))
            ax.plot(xs, ys, marker="o", label=engine)
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_title(stat.replace("_ms", "") + " latency, top 10 (ms, log scale)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("milliseconds")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def recall(rows, out):
    fig, ax = plt.subplots(figsize=(7, 5))
    systems = []
    for r in rows:
        if r["system"] not in systems:
            systems.append(r["system"])
    for system in systems:
        pts = [(float(r["recall"]), float(r["qps"])) for r in rows if r["system"] == system]
        pts.sort()
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=system)
    ax.set_xlabel("recall@10")
    ax.set_ylabel("queries per second")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def main():
    kind, src, out = sys.argv[1:4]
    {"relevance": relevance, "latency": latency, "recall": recall}[kind](read(src), out, *sys.argv[4:])


if __name__ == "__main__":
    main()
