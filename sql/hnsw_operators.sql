-- The vector distance operators on real[], against values computed by hand,
-- and every input they refuse.

-- <-> is the Euclidean distance: sqrt(3^2 + 4^2) = 5, sqrt(1+1+1+1) = 2.
SELECT '{0,0}'::real[] <-> '{3,4}'::real[] AS five,
       '{1,2,3,4}'::real[] <-> '{2,3,4,5}'::real[] AS two,
       '{1.5}'::real[] <-> '{-1.5}'::real[] AS three,
       '{7,7,7}'::real[] <-> '{7,7,7}'::real[] AS zero;
-- <#> is the negative inner product: -(1*4 + 2*5 + 3*6) = -32.
SELECT '{1,2,3}'::real[] <#> '{4,5,6}'::real[] AS minus_32,
       '{1,0}'::real[] <#> '{0,1}'::real[] AS zero,
       '{-1,-1}'::real[] <#> '{1,1}'::real[] AS two;
-- <=> is 1 - cos: orthogonal 1, same direction 0, opposite 2, 60 degrees 0.5.
-- Like the index, the operators compute in single precision (the vectors are
-- normalised to unit length first), so values that are not exact in float
-- show a rounding error past the 7th digit.
SELECT '{1,0}'::real[] <=> '{0,3}'::real[] AS one,
       '{0,2}'::real[] <=> '{0,5}'::real[] AS zero,
       round(('{2,2}'::real[] <=> '{5,5}'::real[])::numeric, 6) AS zero_rounded,
       '{3,4}'::real[] <=> '{-6,-8}'::real[] AS two,
       round(('{1,2}'::real[] <=> '{-2,-4}'::real[])::numeric, 6) AS two_rounded,
       round(('{1,0}'::real[] <=> '{1,1.7320508}'::real[])::numeric, 6) AS half;
-- The functions behind the operators, and symmetry.
SELECT quarry_l2_distance('{1,1}', '{4,5}') AS five,
       quarry_negative_inner_product('{2}', '{3}') AS minus_6,
       quarry_cosine_distance('{0,1}', '{0,2}') AS zero,
       ('{1,2,3}'::real[] <-> '{3,2,1}') = ('{3,2,1}'::real[] <-> '{1,2,3}') AS symmetric;
-- Any lower bound is fine: the elements are what count.
SELECT '[0:1]={3,4}'::real[] <-> '{0,0}'::real[] AS five;
-- Long vectors: 1,000 ones against zeros: sqrt(1000).
SELECT round((array_fill(1::real, ARRAY[1000]) <-> array_fill(0::real, ARRAY[1000]))::numeric, 6) AS sqrt_1000;
-- Strict: NULL in, NULL out.
SELECT NULL::real[] <-> '{1}'::real[] IS NULL AS null_result;

-- Errors, each with a clear message.
SELECT '{1,2}'::real[] <-> '{1,2,3}'::real[];
SELECT '{1,NULL}'::real[] <-> '{1,2}'::real[];
SELECT '{{1,2},{3,4}}'::real[] <-> '{{1,2},{3,4}}'::real[];
SELECT '{}'::real[] <-> '{}'::real[];
SELECT '{1,NaN}'::real[] <-> '{1,2}'::real[];
SELECT '{1,2}'::real[] <#> '{Infinity,2}'::real[];
SELECT '{-Infinity}'::real[] <=> '{1}'::real[];
SELECT '{0,0}'::real[] <=> '{1,2}'::real[] AS zero_is_nan; -- no direction: NaN (hnsw_zero_vectors.sql)
SELECT '{1e20,1}'::real[] <-> '{0,0}'::real[];
-- The zero vector is fine for L2 and inner product.
SELECT '{0,0}'::real[] <-> '{3,4}'::real[] AS five, '{0,0}'::real[] <#> '{3,4}'::real[] AS zero;

-- Compressed values (a real[] over about 2 kB is stored compressed): a call
-- site keeps a decompressed copy of the compressed value it was passed last
-- and uses it only for the same bytes. Every pair of six compressed vectors,
-- through one call site of each operator, equals the distance computed from
-- uncompressed copies (v || '{}' builds a new array), and a reference
-- computed in plain SQL.
CREATE TABLE op_big (id int PRIMARY KEY, v real[]);
INSERT INTO op_big SELECT g, ARRAY(SELECT ((d * g) % 7 + g)::real FROM generate_series(1, 1000) d)
FROM generate_series(1, 6) g;
-- Some share their compressed size: only their bytes tell them apart.
SELECT count(*) AS compressed, count(DISTINCT pg_column_size(v)) AS sizes
FROM op_big WHERE pg_column_compression(v) IS NOT NULL;
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE a.v <-> b.v = (a.v || '{}'::real[]) <-> (b.v || '{}'::real[])) AS l2_equal,
       count(*) FILTER (WHERE a.v <#> b.v = (a.v || '{}'::real[]) <#> (b.v || '{}'::real[])) AS ip_equal,
       count(*) FILTER (WHERE a.v <=> b.v = (a.v || '{}'::real[]) <=> (b.v || '{}'::real[])) AS cosine_equal,
       count(*) FILTER (WHERE a.v <+> b.v = (a.v || '{}'::real[]) <+> (b.v || '{}'::real[])) AS l1_equal,
       count(*) FILTER (WHERE abs((a.v <-> b.v) - (SELECT sqrt(sum((x - y)::float8 ^ 2)) FROM unnest(a.v, b.v) u(x, y))) < 1e-3) AS l2_as_sql
FROM op_big a, op_big b;
DROP TABLE op_big;
