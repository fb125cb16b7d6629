-- quarry 0.1.1 -> 0.2.0. 0.1.1 was never released: it is what main built
-- before the version became 0.2.0, with the same SQL objects. This script lets
-- a database created from such a build update (ALTER EXTENSION quarry UPDATE);
-- it changes nothing.
\echo Use "ALTER EXTENSION quarry UPDATE TO '0.2.0'" to load this file. \quit
