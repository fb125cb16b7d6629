#!/usr/bin/python3
"""Top-10 queries on Fashion-MNIST through a real client (bench/hnsw_client.sh runs it).

  hnsw_client.py DSN DATA ENGINE MODES EFS QUERIES

DSN      libpq connection string of the benchmark database
DATA     the Fashion-MNIST folder (IDX files and gt_l2_k100_dist.fvecs)
ENGINE   quarry or pgvector: which ef_search setting to set (the table fmv has
         only that engine's index on its vector(784) column when this runs)
MODES    comma-separated, each a way an application sends the query:
           backend       the PL/pgSQL loop bench_loop() in one backend (no client)
           pg2_simple    psycopg2, the vector as a text literal in the SQL string,
                         planned anew every time (no prepared statement)
           pg2_prepared  psycopg2, PREPARE once, then EXECUTE q('[...]')
           pg3_text      psycopg 3, server-side prepared (prepare=True), the
                         vector as a text parameter
           pg3_binary    psycopg 3, server-side prepared, the vector as a binary
                         parameter (pgvector's send/recv format)
           pg3_binary_dist  as pg3_binary, with the distance in the SELECT list
EFS      comma-separated ef_search values
QUERIES  how many of the 10,000 test vectors to run per (mode, ef_search)

Prints one tab-separated line per (mode, ef_search): engine, mode, ef_search,
recall@10, queries per second, p50 and p95 latency in microseconds, queries,
and the server backend's CPU time per query in microseconds (user + system
from /proc/PID/stat, 10 ms ticks; "-" when the server is not on this machine or
not readable): on a shared machine it moves less than the wall clock.
A query's time is the client's wall clock around execute + fetch (for backend,
clock_timestamp() around the query inside the loop). Recall@10 counts a
returned row as a hit when its squared L2 distance to the query is at most the
10th true neighbour's (ties count), computed here with numpy.
"""
import os
import struct
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fmnist  # noqa: E402

QUERY = "SELECT id FROM fmv ORDER BY v <-> {} LIMIT 10"
QUERY_DIST = "SELECT id, v <-> {} AS distance FROM fmv ORDER BY v <-> {} LIMIT 10"
WARMUP = 200


def load(directory, queries):
    """Training vectors, the first `queries` test vectors, and the squared
    distance of each query's 10th true neighbour."""
    (n, rows, cols), pixels = fmnist.read_idx(os.path.join(directory, "train-images-idx3-ubyte.gz"))
    train = np.frombuffer(pixels, dtype=np.uint8).reshape(n, rows * cols).astype(np.float32)
    (nt, _, _), tpixels = fmnist.read_idx(os.path.join(directory, "t10k-images-idx3-ubyte.gz"))
    test = np.frombuffer(tpixels, dtype=np.uint8).reshape(nt, rows * cols).astype(np.float32)[:queries]
    d10 = []
    with open(os.path.join(directory, "gt_l2_k100_dist.fvecs"), "rb") as f:
        data = f.read()
    offset = 0
    while offset < len(data) and len(d10) < queries:
        d, = struct.unpack_from("<i", data, offset)
        d10.append(struct.unpack_from("<f", data, offset + 4 + 4 * 9)[0])
        offset += 4 + 4 * d
    return train, test, np.array(d10, dtype=np.float64)


def recall(train, test, d10, ids):
    """Recall@10 of the returned ids (one list per query), ties counted."""
    hits = 0
    for q, returned in enumerate(ids):
        if not returned:
            continue
        diff = train[np.array(returned)] - test[q]
        dist = np.einsum("ij,ij->i", diff.astype(np.float64), diff.astype(np.float64))
        hits += int(np.count_nonzero(dist <= d10[q] * (1 + 1e-6)))
    return hits / (len(ids) * 10)


def text_literal(vector):
    """The vector as pgvector's text input, as pgvector-python writes it."""
    return "[" + ",".join(str(float(x)) for x in vector) + "]"


def binary_vector(vector):
    """pgvector's binary format: dimensions, a reserved int16, big-endian floats."""
    return BinaryVector(struct.pack(">HH", len(vector), 0) + np.asarray(vector, dtype=">f4").tobytes())


def ef_setting(engine):
    return "quarry.hnsw_ef_search" if engine.startswith("quarry") else "hnsw.ef_search"


def backend_cpu(pid):
    """CPU seconds (user + system) the server backend `pid` has used; None
    when its /proc entry cannot be read (a server on another machine or user)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def timed(run, texts_or_bins, pid):
    """Runs `run(i)` for every query after a warm-up: the ids, the latencies
    and the backend's CPU seconds for all of them (less sensitive than the
    latencies to other work on a shared machine)."""
    for i in range(min(WARMUP, len(texts_or_bins))):
        run(i)
    ids, lat = [], []
    cpu0 = backend_cpu(pid)
    for i in range(len(texts_or_bins)):
        t0 = time.perf_counter()
        rows = run(i)
        lat.append(time.perf_counter() - t0)
        ids.append([r[0] for r in rows])
    cpu1 = backend_cpu(pid)
    return ids, lat, (cpu1 - cpu0 if cpu0 is not None and cpu1 is not None else None)


def run_psycopg2(dsn, engine, ef, texts, prepared, query=QUERY):
    """psycopg2: the vector as a quoted text literal, prepared or not."""
    import psycopg2
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SET %s = %d" % (ef_setting(engine), ef))
    if prepared:
        cur.execute("PREPARE q(vector) AS " + query.format("$1"))
        sql = "EXECUTE q(%s)"
    else:
        sql = query.format("%s")

    def run(i):
        cur.execute(sql, (texts[i],))
        return cur.fetchall()
    result = timed(run, texts, conn.get_backend_pid())
    conn.close()
    return result


class BinaryVector:
    """A vector sent in pgvector's binary format (vector_recv)."""
    __slots__ = ("data",)

    def __init__(self, data):
        self.data = data


def run_psycopg3(dsn, engine, ef, params, binary, with_distance, query=QUERY):
    """psycopg 3, server-side prepared: a text or a binary parameter."""
    import psycopg
    from psycopg.adapt import Dumper
    from psycopg.pq import Format
    conn = psycopg.connect(dsn, autocommit=True)
    conn.execute("SET %s = %d" % (ef_setting(engine), ef))
    if binary:
        oid = conn.execute("SELECT 'vector'::regtype::oid").fetchone()[0]

        class VectorBinaryDumper(Dumper):
            format = Format.BINARY

            def dump(self, obj):
                return obj.data
        VectorBinaryDumper.oid = oid
        conn.adapters.register_dumper(BinaryVector, VectorBinaryDumper)
        placeholder = "%b"
    else:
        placeholder = "%s"
    sql = QUERY_DIST.format(placeholder, placeholder) if with_distance else query.format(placeholder)
    cur = conn.cursor()

    def run(i):
        args = (params[i], params[i]) if with_distance else (params[i],)
        cur.execute(sql, args, prepare=True)
        return cur.fetchall()
    result = timed(run, params, conn.info.backend_pid)
    conn.close()
    return result


def run_backend(dsn, engine, ef, n):
    import psycopg2
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SET %s = %d" % (ef_setting(engine), ef))
    cur.execute("SELECT * FROM bench_loop(%s)", (min(WARMUP, n),))
    cpu0 = backend_cpu(conn.get_backend_pid())
    cur.execute("SELECT * FROM bench_loop(%s)", (n,))
    cpu1 = backend_cpu(conn.get_backend_pid())
    ids, lat = [], []
    for qid, returned, seconds in cur.fetchall():
        ids.append(list(returned or []))
        lat.append(seconds)
    conn.close()
    return ids, lat, (cpu1 - cpu0 if cpu0 is not None and cpu1 is not None else None)


def result_line(engine, mode, ef, recall_at_10, lat, cpu):
    """engine, mode, ef_search, recall@10, QPS, p50 and p95 latency (µs),
    queries, the backend's CPU µs per query ("-" when unknown)."""
    lat_us = np.array(lat) * 1e6
    return "%s\t%s\t%d\t%.4f\t%.0f\t%.0f\t%.0f\t%d\t%s" % (
        engine, mode, ef, recall_at_10, len(lat) / sum(lat), np.percentile(lat_us, 50),
        np.percentile(lat_us, 95), len(lat), "%.0f" % (cpu / len(lat) * 1e6) if cpu is not None else "-")


def main(argv):
    if len(argv) != 7:
        sys.exit(__doc__)
    dsn, directory, engine, modes, efs, queries = argv[1:]
    n = int(queries)
    train, test, d10 = load(directory, n)
    texts = [text_literal(v) for v in test]
    bins = [binary_vector(v) for v in test]
    for mode in modes.split(","):
        for ef in map(int, efs.split(",")):
            if mode == "backend":
                ids, lat, cpu = run_backend(dsn, engine, ef, n)
            elif mode in ("pg2_simple", "pg2_prepared"):
                ids, lat, cpu = run_psycopg2(dsn, engine, ef, texts, mode == "pg2_prepared")
            elif mode == "pg3_text":
                ids, lat, cpu = run_psycopg3(dsn, engine, ef, texts, False, False)
            elif mode in ("pg3_binary", "pg3_binary_dist"):
                ids, lat, cpu = run_psycopg3(dsn, engine, ef, bins, True, mode == "pg3_binary_dist")
            else:
                sys.exit("unknown mode " + mode)
            print(result_line(engine, mode, ef, recall(train, test, d10, ids), lat, cpu), flush=True)


if __name__ == "__main__":
    main(sys.argv)
