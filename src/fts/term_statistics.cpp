// BM25 statistics carried with a query: parsing, lookup and summing (see
// term_statistics.h for the text form).
#include "fts/term_statistics.h"

#include <algorithm>
#include <limits>

namespace quarry::fts {

namespace {

constexpr uint64_t kMaxNumber = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

// Reads a decimal number at `s`, advancing it.
bool
ReadNumber(std::string_view &s, uint64_t *out)
{
	std::size_t i = 0;
	uint64_t v = 0;
	while (i < s.size() && s[i] >= '0' && s[i] <= '9')
	{
		if (i == 1 && s[0] == '0')
			return false; // a leading zero
		const uint64_t digit = static_cast<uint64_t>(s[i] - '0');
		if (v > (kMaxNumber - digit) / 10)
			return false;
		v = v * 10 + digit;
		i++;
	}
	if (i == 0)
		return false;
	*out = v;
	s.remove_prefix(i);
	return true;
}

bool
Expect(std::string_view &s, std::string_view word)
{
	if (!s.starts_with(word))
		return false;
	s.remove_prefix(word.size());
	return true;
}

int
HexValue(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

// The hex digits at `s` up to ':' (advancing past them), validated.
bool
ReadHex(std::string_view &s, std::string_view *hex)
{
	std::size_t i = 0;
	while (i < s.size() && HexValue(s[i]) >= 0)
		i++;
	if (i == 0 || i % 2 != 0)
		return false;
	*hex = s.substr(0, i);
	s.remove_prefix(i);
	return true;
}

// Compares the bytes a hex string stands for with `term`.
int
CompareHex(std::string_view hex, std::string_view term)
{
	const std::size_t n = hex.size() / 2;
	for (std::size_t i = 0; i < n && i < term.size(); i++)
	{
		const auto a = static_cast<unsigned char>(HexValue(hex[2 * i]) * 16 + HexValue(hex[2 * i + 1]));
		const auto b = static_cast<unsigned char>(term[i]);
		if (a != b)
			return a < b ? -1 : 1;
	}
	return n == term.size() ? 0 : (n < term.size() ? -1 : 1);
}

int
CompareHexHex(std::string_view a, std::string_view b)
{
	// Lowercase hex of equal-width bytes sorts as the bytes do.
	const int c = a.substr(0, std::min(a.size(), b.size())).compare(b.substr(0, std::min(a.size(), b.size())));
	if (c != 0)
		return c;
	return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

std::string
Hex(std::string_view bytes)
{
	static constexpr char kDigits[] = "0123456789abcdef";
	std::string out;
	out.reserve(bytes.size() * 2);
	for (char ch : bytes)
	{
		const auto c = static_cast<unsigned char>(ch);
		out.push_back(kDigits[c >> 4]);
		out.push_back(kDigits[c & 15]);
	}
	return out;
}

bool
ParseFields(std::string_view &s, TermStatistics *out, const char **error)
{
	out->field_count = 0;
	do
	{
		if (out->field_count == kMaxStatisticsFields)
			return *error = "more than 8 field lengths", false;
		if (!ReadNumber(s, &out->field_length[out->field_count++]))
			return *error = "a field length is not a number", false;
	} while (Expect(s, ","));
	if (out->field_count < 2)
		return *error = "fewer than 2 field lengths", false;
	return true;
}

bool
ParseTerms(std::string_view s, const char **error)
{
	std::string_view previous;
	bool first = true;
	while (!s.empty())
	{
		if (!first && !Expect(s, ","))
			return *error = "terms are not separated by commas", false;
		std::string_view hex;
		uint64_t df;
		if (!ReadHex(s, &hex))
			return *error = "a term is not lowercase hexadecimal of whole bytes", false;
		if (!Expect(s, ":") || !ReadNumber(s, &df))
			return *error = "a term's document frequency is missing or not a number", false;
		if (!first && CompareHexHex(previous, hex) >= 0)
			return *error = "terms are not in strictly ascending order", false;
		previous = hex;
		first = false;
	}
	return true;
}

// Calls fn(hex, df) for each term of a validated term section, in order,
// until fn returns false.
template <typename Fn>
void
ForEachTerm(std::string_view terms, Fn fn)
{
	while (!terms.empty())
	{
		std::string_view hex;
		uint64_t df = 0;
		ReadHex(terms, &hex);
		terms.remove_prefix(1); // ':'
		ReadNumber(terms, &df);
		if (!fn(hex, df))
			return;
		if (!terms.empty())
			terms.remove_prefix(1); // ','
	}
}

} // namespace

bool
TermStatistics::Parse(std::string_view text, TermStatistics *out, const char **error)
{
	*out = TermStatistics{};
	std::string_view s = text;
	if (!Expect(s, "n=") || !ReadNumber(s, &out->doc_count))
		return *error = "it does not start with n=<rows>", false;
	if (!Expect(s, " len=") || !ReadNumber(s, &out->total_length))
		return *error = "len=<total length> does not follow n=", false;
	if (Expect(s, " fields=") && !ParseFields(s, out, error))
		return false;
	if (!Expect(s, " df="))
		return *error = "df= does not follow the totals", false;
	if (!ParseTerms(s, error))
		return false;
	out->terms = s;
	return true;
}

bool
TermStatistics::Find(std::string_view term, uint64_t *df) const
{
	bool found = false;
	ForEachTerm(terms, [&](std::string_view hex, uint64_t value) {
		const int c = CompareHex(hex, term);
		if (c == 0)
		{
			*df = value;
			found = true;
		}
		return c < 0; // ascending: past `term`, it is not further on
	});
	return found;
}

bool
StatisticsSum::AddTotals(uint64_t doc_count, uint64_t total_length, uint32_t field_count, const uint64_t *field_length,
						 const char **error)
{
	if (started_ && field_count != totals_.field_count)
		return *error = "the indexes have different numbers of fields", false;
	if (field_count == 0 || field_count > kMaxStatisticsFields)
		return *error = "bad number of fields", false;
	auto add = [&](uint64_t &sum, uint64_t v) {
		if (v > kMaxNumber - sum)
			return false;
		sum += v;
		return true;
	};
	started_ = true;
	totals_.field_count = field_count;
	bool ok = add(totals_.doc_count, doc_count) && add(totals_.total_length, total_length);
	for (uint32_t f = 0; ok && field_count >= 2 && f < field_count; f++)
		ok = add(totals_.field_length[f], field_length[f]);
	if (!ok)
		*error = "a sum of statistics overflows";
	return ok;
}

bool
StatisticsSum::AddTerm(std::string_view term, uint64_t df, const char **error)
{
	uint64_t &sum = terms_[std::string(term)];
	if (df > kMaxNumber - sum)
		return *error = "a sum of document frequencies overflows", false;
	sum += df;
	return true;
}

bool
StatisticsSum::Add(const TermStatistics &stats, const char **error)
{
	if (!AddTotals(stats.doc_count, stats.total_length, stats.field_count, stats.field_length, error))
		return false;
	bool ok = true;
	ForEachTerm(stats.terms, [&](std::string_view hex, uint64_t df) {
		std::string bytes;
		for (std::size_t i = 0; i < hex.size(); i += 2)
			bytes.push_back(static_cast<char>(HexValue(hex[i]) * 16 + HexValue(hex[i + 1])));
		ok = AddTerm(bytes, df, error);
		return ok;
	});
	return ok;
}

std::string
StatisticsSum::Format() const
{
	std::string out = "n=" + std::to_string(totals_.doc_count) + " len=" + std::to_string(totals_.total_length);
	if (totals_.field_count >= 2)
	{
		out += " fields=";
		for (uint32_t f = 0; f < totals_.field_count; f++)
			out += (f ? "," : "") + std::to_string(totals_.field_length[f]);
	}
	out += " df=";
	bool first = true;
	for (const auto &[term, df] : terms_)
	{
		if (term.empty())
			continue; // not a term any index holds
		out += (first ? "" : ",") + Hex(term) + ":" + std::to_string(df);
		first = false;
	}
	return out;
}

} // namespace quarry::fts
