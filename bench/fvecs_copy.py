#!/usr/bin/python3
# Writes an .fvecs file as PostgreSQL binary COPY data for a table (id int,
# v real[]): ids from 1, one row per vector, optionally only the first N.
# Usage: fvecs_copy.py FILE [N] > out.copy   (needs Debian's python3-numpy)
import sys

import numpy as np

path = sys.argv[1]
limit = int(sys.argv[2]) if len(sys.argv) > 2 else None
raw = np.fromfile(path, dtype='<i4')
dims = int(raw[0])
vectors = raw.reshape(-1, dims + 1)[:, 1:].view('<f4')
if limit is not None:
    vectors = vectors[:limit]
n = vectors.shape[0]
row = np.dtype([('nfields', '>i2'), ('idlen', '>i4'), ('id', '>i4'), ('arrlen', '>i4'),
                ('ndim', '>i4'), ('flags', '>i4'), ('elemtype', '>i4'), ('dim', '>i4'), ('lbound', '>i4'),
                ('elems', [('len', '>i4'), ('val', '>f4')], (dims,))])
out = np.zeros(n, dtype=row)
out['nfields'] = 2
out['idlen'] = 4
out['id'] = np.arange(1, n + 1)
out['arrlen'] = 20 + 8 * dims
out['ndim'] = 1
out['elemtype'] = 700  # float4
out['dim'] = dims
out['lbound'] = 1
out['elems']['len'] = 4
out['elems']['val'] = vectors
w = sys.stdout.buffer
w.write(b'PGCOPY\n\xff\r\n\0' + (0).to_bytes(4, 'big') + (0).to_bytes(4, 'big'))
w.write(out.tobytes())
w.write((-1).to_bytes(2, 'big', signed=True))
