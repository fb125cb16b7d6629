#!/usr/bin/python3
"""Fashion-MNIST for quarry's benchmarks, tests and demo (standard library only).

  fmnist.py tsv  DIR train|test [N]   rows "id<TAB>label<TAB>{v1,...,v784}" for COPY
  fmnist.py gt   DIR [N] [K]          exact neighbour ids: "query<TAB>{id,...}" (gt_l2_k100.ivecs)
  fmnist.py gtdist DIR [N] [K]        the matching squared L2 distances

DIR holds the IDX files (train-images-idx3-ubyte.gz, t10k-..., *-labels-*), and
for gt/gtdist the TexMex files gt_l2_k100.ivecs / gt_l2_k100_dist.fvecs. Ids are
0-based row numbers of the training set, as in the ground truth.
"""
import gzip
import os
import struct
import sys


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return dims, data[4 + 4 * ndim:]


def files(split):
    prefix = "train" if split == "train" else "t10k"
    return prefix + "-images-idx3-ubyte.gz", prefix + "-labels-idx1-ubyte.gz"


def tsv(directory, split, limit):
    images, labels = files(split)
    (n, rows, cols), pixels = read_idx(os.path.join(directory, images))
    _, label_bytes = read_idx(os.path.join(directory, labels))
    size = rows * cols
    n = min(n, limit)
    out = sys.stdout
    for i in range(n):
        row = pixels[i * size:(i + 1) * size]
        out.write("%d\t%d\t{%s}\n" % (i, label_bytes[i], ",".join(map(str, row))))


def texmex(path, fmt, limit, k):
    with open(path, "rb") as f:
        data = f.read()
    out = sys.stdout
    offset = 0
    q = 0
    while offset < len(data) and q < limit:
        d, = struct.unpack_from("<i", data, offset)
        values = struct.unpack_from("<" + fmt * d, data, offset + 4)
        offset += 4 + 4 * d
        shown = values[:k]
        if fmt == "f":
            shown = ["%.10g" % v for v in shown]
        out.write("%d\t{%s}\n" % (q, ",".join(map(str, shown))))
        q += 1


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    command, directory = argv[1], argv[2]
    if command == "tsv":
        tsv(directory, argv[3], int(argv[4]) if len(argv) > 4 else 10 ** 9)
    elif command in ("gt", "gtdist"):
        limit = int(argv[3]) if len(argv) > 3 else 10 ** 9
        k = int(argv[4]) if len(argv) > 4 else 100
        name, fmt = ("gt_l2_k100.ivecs", "i") if command == "gt" else ("gt_l2_k100_dist.fvecs", "f")
        texmex(os.path.join(directory, name), fmt, limit, k)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
