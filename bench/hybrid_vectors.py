#!/usr/bin/python3
"""Vectors for bench/hybrid_relevance.sh, as COPY-able `id<TAB>{f1,...}` rows.

  hybrid_vectors.py WORDS.vec.xz DOCS.txt OUT.tsv
      one vector per line of DOCS.txt (row i gets id i + 1): the mean of the
      unit-length fastText vectors of its in-vocabulary words, as
      `fasttext print-sentence-vectors` computes it (what
      ../shared/data/gutenberg-paragraphs/fasttext100/README.md describes);
      a line without such a word gets NULL (a zero vector has no cosine)
  hybrid_vectors.py --fvecs QUERIES.fvecs N OUT.tsv
      the first N vectors of a TexMex fvecs file (row i gets id i)
  hybrid_vectors.py --binary BASE.fvecs FIRST_ID OUT.copy
      every vector of an fvecs file as PostgreSQL binary COPY rows
      (id int4, emb real[]), row i with id FIRST_ID + i, an all-zero vector
      as NULL: numpy writes it at disk speed, where formatting text takes
      minutes for a million rows
"""
import lzma
import sys

import numpy as np


def fmt(v):
    return "{" + ",".join("%.7g" % x for x in v) + "}"


def from_fvecs(path, n, out):
    data = np.fromfile(path, dtype=np.int32)
    dim = int(data[0])
    rows = data.reshape(-1, dim + 1)[:n, 1:].view(np.float32)
    with open(out, "w") as f:
        for i, v in enumerate(rows):
            f.write("%d\t%s\n" % (i, fmt(v)))


def sentence_vectors(words_path, docs_path, out):
    index = {}
    vectors = []
    with lzma.open(words_path, "rt", encoding="utf-8") as f:
        count, dim = map(int, f.readline().split())
        for line in f:
            parts = line.rstrip().split(" ")
            if len(parts) != dim + 1:
                continue
            index[parts[0]] = len(vectors)
            vectors.append(np.asarray(parts[1:], dtype=np.float32))
    m = np.vstack(vectors)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1
    m = m / norms
    with open(docs_path, encoding="utf-8") as f, open(out, "w") as o:
        for i, line in enumerate(f):
            ids = [index[w] for w in line.split() if w in index]
            if not ids:
                o.write("%d\t\\N\n" % (i + 1))
                continue
            o.write("%d\t%s\n" % (i + 1, fmt(m[ids].mean(axis=0))))


def to_binary_copy(path, first_id, out):
    data = np.fromfile(path, dtype=np.int32)
    dim = int(data[0])
    rows = data.reshape(-1, dim + 1)[:, 1:].view(np.float32)
    n = rows.shape[0]
    # Per row: field count, id (length, value), array (length, header, elements).
    array_bytes = 20 + 8 * dim  # ndim, flags, element type, dim, lower bound; (length, float4) per element
    rec = np.dtype([("fields", ">i2"), ("id_len", ">i4"), ("id", ">i4"), ("arr_len", ">i4"),
                    ("ndim", ">i4"), ("flags", ">i4"), ("elemtype", ">i4"), ("dim", ">i4"), ("lbound", ">i4"),
                    ("elems", [("len", ">i4"), ("v", ">f4")], (dim,))])
    buf = np.zeros(n, dtype=rec)
    buf["fields"] = 2
    buf["id_len"] = 4
    buf["id"] = np.arange(first_id, first_id + n, dtype=np.int32)
    buf["arr_len"] = array_bytes
    buf["ndim"] = 1
    buf["elemtype"] = 700  # float4
    buf["dim"] = dim
    buf["lbound"] = 1
    buf["elems"]["len"] = 4
    buf["elems"]["v"] = rows
    zero = ~rows.any(axis=1)
    with open(out, "wb") as f:
        f.write(b"PGCOPY\n\xff\r\n\0" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big"))
        if not zero.any():
            buf.tofile(f)
        else:
            null_rec = np.dtype([("fields", ">i2"), ("id_len", ">i4"), ("id", ">i4"), ("arr_len", ">i4")])
            start = 0
            for z in np.flatnonzero(zero):
                buf[start:z].tofile(f)
                nr = np.zeros(1, dtype=null_rec)
                nr["fields"], nr["id_len"], nr["id"], nr["arr_len"] = 2, 4, first_id + z, -1
                nr.tofile(f)
                start = z + 1
            buf[start:].tofile(f)
        f.write((-1).to_bytes(2, "big", signed=True))


if __name__ == "__main__":
    if sys.argv[1] == "--binary":
        to_binary_copy(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif sys.argv[1] == "--fvecs":
        from_fvecs(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        sentence_vectors(sys.argv[1], sys.argv[2], sys.argv[3])
