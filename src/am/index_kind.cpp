// Recognising quarry's indexes from the catalog (index_kind.h).
#include "am/index_kind.h"

#include "pg/guard.h"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "utils/syscache.h"
}

namespace quarry::am {

const char *
AccessMethodName(IndexKind kind)
{
	switch (kind)
	{
		case IndexKind::kBm25:
			return "quarry_bm25";
		case IndexKind::kHnsw:
			return "quarry_hnsw";
		case IndexKind::kOther:
		case IndexKind::kAny:
			break;
	}
	return "quarry";
}

Oid
AccessMethodOid(IndexKind kind)
{
	if (kind != IndexKind::kBm25 && kind != IndexKind::kHnsw)
		return InvalidOid;
	// Access method names are global; only a superuser can create one.
	return get_am_oid(AccessMethodName(kind), true);
}

namespace {

struct RelationKind {
	IndexKind kind;
	NameData name;
};

RelationKind
ReadRelationKind(Oid relation)
{
	HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relation));
	if (!HeapTupleIsValid(tuple))
		pg::ThrowError(ERRCODE_UNDEFINED_OBJECT, "index with OID %u does not exist", relation);
	auto *form = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple));
	RelationKind result{IndexKind::kOther, form->relname};
	if (form->relkind == RELKIND_INDEX)
	{
		if (form->relam != InvalidOid && form->relam == AccessMethodOid(IndexKind::kBm25))
			result.kind = IndexKind::kBm25;
		else if (form->relam != InvalidOid && form->relam == AccessMethodOid(IndexKind::kHnsw))
			result.kind = IndexKind::kHnsw;
	}
	ReleaseSysCache(tuple);
	return result;
}

} // namespace

IndexKind
KindOfIndex(Oid relation)
{
	return ReadRelationKind(relation).kind;
}

IndexKind
CheckIndexKind(Oid relation, IndexKind kind)
{
	RelationKind found = ReadRelationKind(relation);
	if (found.kind == IndexKind::kOther || (kind != IndexKind::kAny && found.kind != kind))
		pg::ThrowError(ERRCODE_WRONG_OBJECT_TYPE, "\"%s\" is not a %s index", NameStr(found.name), AccessMethodName(kind));
	return found.kind;
}

} // namespace quarry::am
