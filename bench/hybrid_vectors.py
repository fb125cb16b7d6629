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


if __name__ == "__main__":
    if sys.argv[1] == "--fvecs":
        from_fvecs(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        sentence_vectors(sys.argv[1], sys.argv[2], sys.argv[3])
