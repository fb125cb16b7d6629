#!/usr/bin/python3
"""The 1M x 100 fastText Gutenberg vectors for bench/hnsw_1m.sh.

  hnsw_1m.py copy BASE.fvecs OUT          BASE as a binary COPY file for
                                          t1m(id int, v vector(100)): id = row
                                          number (0-based, as the ground truth)
  hnsw_1m.py query DSN DIR BASE ENGINE MODES EFS QUERIES
                                          top-10 cosine queries through a client

DIR is the fasttext100 folder (queries.fvecs, gt_cos_k100.ivecs). MODES:
pg2_prepared (psycopg2, PREPARE once, EXECUTE with a text literal) and
pg3_binary (psycopg 3, server-side prepared, binary parameter); see
bench/hnsw_client.py. Prints per (mode, ef_search): engine, mode, ef_search,
recall@10, QPS, p50 and p95 latency in microseconds, queries, backend CPU µs
per query (bench/hnsw_client.py). A returned row is
a hit when its cosine distance is at most the 10th true neighbour's (ties
count; the ground truth has exact ties), computed here with numpy.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hnsw_client  # noqa: E402

QUERY = "SELECT id FROM t1m ORDER BY v <=> {} LIMIT 10"


def read_vecs(path, dtype, limit=None):
    """A TexMex .fvecs / .ivecs file as a 2-d array."""
    raw = np.fromfile(path, dtype=np.int32, count=-1)
    d = raw[0]
    rows = raw.reshape(-1, d + 1)[:, 1:]
    if limit is not None:
        rows = rows[:limit]
    return rows.view(dtype) if dtype == np.float32 else rows


def copy_file(base, out):
    """PostgreSQL's binary COPY format: two fields, int4 id and pgvector's
    vector_recv body (int16 dims, int16 0, big-endian floats)."""
    vectors = read_vecs(base, np.float32)
    n, d = vectors.shape
    row = np.dtype([("fields", ">i2"), ("id_len", ">i4"), ("id", ">i4"), ("v_len", ">i4"),
                    ("dims", ">i2"), ("unused", ">i2"), ("v", ">f4", (d,))])
    rows = np.zeros(n, dtype=row)
    rows["fields"] = 2
    rows["id_len"] = 4
    rows["id"] = np.arange(n)
    rows["v_len"] = 4 + 4 * d
    rows["dims"] = d
    rows["v"] = vectors
    with open(out, "wb") as f:
        f.write(b"PGCOPY\n\xff\r\n\0" + np.array([0, 0], dtype=">i4").tobytes())
        rows.tofile(f)
        f.write(np.array([-1], dtype=">i2").tobytes())


def normalised(x):
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return x / norms


def query(dsn, directory, base, engine, modes, efs, n):
    vectors = normalised(read_vecs(base, np.float32).astype(np.float64))
    queries = read_vecs(os.path.join(directory, "queries.fvecs"), np.float32, n)
    gt = read_vecs(os.path.join(directory, "gt_cos_k100.ivecs"), np.int32, n)
    qn = normalised(queries.astype(np.float64))
    d10 = np.array([1 - vectors[gt[q, 9]] @ qn[q] for q in range(len(qn))])
    texts = [hnsw_client.text_literal(v) for v in queries]
    bins = [hnsw_client.binary_vector(v) for v in queries]
    for mode in modes.split(","):
        for ef in map(int, efs.split(",")):
            if mode == "pg2_prepared":
                ids, lat, cpu = hnsw_client.run_psycopg2(dsn, engine, ef, texts, True, QUERY)
            elif mode == "pg3_binary":
                ids, lat, cpu = hnsw_client.run_psycopg3(dsn, engine, ef, bins, True, False, QUERY)
            else:
                sys.exit("unknown mode " + mode)
            hits = 0
            for q, returned in enumerate(ids):
                if returned:
                    dist = 1 - vectors[np.array(returned)] @ qn[q]
                    hits += int(np.count_nonzero(dist <= d10[q] + 1e-6))
            print(hnsw_client.result_line(engine, mode, ef, hits / (len(ids) * 10), lat, cpu), flush=True)


def main(argv):
    if len(argv) == 4 and argv[1] == "copy":
        copy_file(argv[2], argv[3])
    elif len(argv) == 9 and argv[1] == "query":
        query(argv[2], argv[3], argv[4], argv[5], argv[6], argv[7], int(argv[8]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
