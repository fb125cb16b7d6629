// Which of quarry's access methods an index belongs to, read from the catalog
// (no lock taken), and the one check every SQL function naming an index makes.
#pragma once

#include "pg/postgres_api.h"

namespace quarry::am {

enum class IndexKind {
	kOther, // not an index of quarry's access methods
	kBm25,
	kHnsw,
	kAny, // for CheckIndexKind: an index of either access method
};

/// "quarry_bm25" or "quarry_hnsw" (kOther: "quarry").
const char *AccessMethodName(IndexKind kind);

/// The OID of the access method, InvalidOid when quarry is not installed in
/// this database.
Oid AccessMethodOid(IndexKind kind);

/// The kind of relation `relation`: kOther for anything that is not an index
/// of quarry's access methods. ERRORs when there is no such relation.
IndexKind KindOfIndex(Oid relation);

/// ERRORs ("\"x\" is not a quarry_bm25 index") unless `relation` is an index
/// of `kind` (kAny: of either access method). Returns its kind.
IndexKind CheckIndexKind(Oid relation, IndexKind kind);

} // namespace quarry::am
