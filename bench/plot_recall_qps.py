#!/usr/bin/python3
"""Recall@10 against queries per second, from bench/hnsw_fmnist.sh's sweep.

  plot_recall_qps.py SWEEP.tsv OUT.png

SWEEP.tsv columns: system, ef_search, recall_at_10, qps. pgvector is drawn from
the anchor numbers measured earlier on this machine class (shared notes,
vector-anchors.md: pgvector 0.8.6, 2,000 queries, PL/pgSQL loop), for reference.
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PGVECTOR_ANCHOR = [  # ef_search, recall@10, QPS
    (10, 0.9678, 3312), (20, 0.9882, 2234), (40, 0.9959, 1630), (80, 0.9983, 1174),
    (120, 0.9991, 946), (200, 0.9996, 689), (400, 0.9998, 392),
]


def main(sweep, png):
    series = {}
    with open(sweep) as f:
        for row in csv.DictReader(f, delimiter="\t"):
            series.setdefault(row["system"], []).append(
                (row["ef_search"], float(row["recall_at_10"]), float(row["qps"])))
    fig, ax = plt.subplots(figsize=(8, 5.5))
    styles = {"quarry": ("o-", "tab:blue", "quarry_hnsw through SQL (one backend)"),
              "hnswlib": ("s-", "tab:green", "hnswlib in-process, 1 thread")}
    for name, (marker, color, label) in styles.items():
        points = series.get(name, [])
        if not points:
            continue
        ax.plot([p[1] for p in points], [p[2] for p in points], marker, color=color, label=label)
        for ef, recall, qps in points:
            ax.annotate(ef, (recall, qps), textcoords="offset points", xytext=(4, 4), fontsize=7, color=color)
    ax.plot([p[1] for p in PGVECTOR_ANCHOR], [p[2] for p in PGVECTOR_ANCHOR], "^--", color="tab:orange",
            label="pgvector 0.8.6 (anchor, same machine class)")
    for _, recall, qps in series.get("exact", []):
        ax.plot([recall], [qps], "kx", markersize=9, label="exact search (seq scan + sort)")
    ax.axvline(0.99, color="grey", linewidth=0.8, linestyle=":")
    ax.axhline(5000, color="grey", linewidth=0.8, linestyle=":")
    ax.set_yscale("log")
    ax.set_xlabel("recall@10")
    ax.set_ylabel("queries per second (log)")
    ax.set_title("Fashion-MNIST 60k x 784, L2, m=16, ef_construction=64 (labels: ef_search)", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=120)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
