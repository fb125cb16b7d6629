// BM25 statistics texts (src/fts/term_statistics.h) on arbitrary bytes. The
// input is one text per line ('\n' separates them). Besides running clean
// under ASan + UBSan, for every line:
//   - Parse accepts it exactly when an independent reader here does (the text
//     form of term_statistics.h, read with its own rules), with the same
//     totals and terms; a rejection always names its error;
//   - when accepted: Find gives every term of the list its df, and misses the
//     bytes next to a term (a prefix, an extension) that the list lacks;
//     the sum of that one text formats to the text itself (an accepted text is
//     canonical); the sum of it twice doubles every number, or reports an
//     overflow exactly when one of them exceeds (2^63 - 1) / 2;
// and, with two lines or more that all parse, their sum (through Add) is the
// reference's sum, or fails where the reference overflows or meets another
// number of fields.
#include "fts/term_statistics.h"
#include "fuzz_input.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using namespace quarry;

namespace {

constexpr uint64_t kMax = 9223372036854775807ull;

using Bytes = std::vector<unsigned char>;

struct Ref {
	uint64_t n = 0;
	uint64_t len = 0;
	std::vector<uint64_t> fields;			   // empty, or 2..8
	std::vector<std::pair<Bytes, uint64_t>> terms; // in the text's order
};

// A decimal number of the text form: digits, no leading zero, at most 2^63 - 1.
std::optional<uint64_t>
RefNumber(std::string_view s)
{
	if (s.empty() || s.size() > 19 || (s.size() > 1 && s[0] == '0'))
		return std::nullopt;
	for (char c : s)
		if (c < '0' || c > '9')
			return std::nullopt;
	if (s.size() == 19 && s > "9223372036854775807")
		return std::nullopt;
	uint64_t v = 0;
	for (char c : s)
		v = v * 10 + static_cast<uint64_t>(c - '0');
	return v;
}

std::vector<std::string_view>
SplitOn(std::string_view s, char sep)
{
	std::vector<std::string_view> out;
	for (;;)
	{
		const std::size_t at = s.find(sep);
		out.push_back(s.substr(0, at));
		if (at == std::string_view::npos)
			return out;
		s.remove_prefix(at + 1);
	}
}

int
RefHexDigit(char c)
{
	const std::string_view digits = "0123456789abcdef";
	const std::size_t at = digits.find(c);
	return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

// The text read by the rules of term_statistics.h, written independently of
// term_statistics.cpp (tokens split on ' ', ',' and ':').
std::optional<Ref>
RefParse(std::string_view text)
{
	Ref ref;
	const std::vector<std::string_view> parts = SplitOn(text, ' ');
	if (parts.size() != 3 && parts.size() != 4)
		return std::nullopt;
	if (!parts[0].starts_with("n=") || !parts[1].starts_with("len=") || !parts.back().starts_with("df="))
		return std::nullopt;
	const auto n = RefNumber(parts[0].substr(2));
	const auto len = RefNumber(parts[1].substr(4));
	if (!n || !len)
		return std::nullopt;
	ref.n = *n;
	ref.len = *len;
	if (parts.size() == 4)
	{
		if (!parts[2].starts_with("fields="))
			return std::nullopt;
		const std::vector<std::string_view> lengths = SplitOn(parts[2].substr(7), ',');
		if (lengths.size() < 2 || lengths.size() > fts::kMaxStatisticsFields)
			return std::nullopt;
		for (std::string_view l : lengths)
		{
			const auto v = RefNumber(l);
			if (!v)
				return std::nullopt;
			ref.fields.push_back(*v);
		}
	}
	const std::string_view list = parts.back().substr(3);
	if (list.empty())
		return ref;
	for (std::string_view item : SplitOn(list, ','))
	{
		const std::vector<std::string_view> pair = SplitOn(item, ':');
		if (pair.size() != 2 || pair[0].empty() || pair[0].size() % 2 != 0)
			return std::nullopt;
		Bytes term;
		for (std::size_t i = 0; i < pair[0].size(); i += 2)
		{
			const int hi = RefHexDigit(pair[0][i]), lo = RefHexDigit(pair[0][i + 1]);
			if (hi < 0 || lo < 0)
				return std::nullopt;
			term.push_back(static_cast<unsigned char>(hi * 16 + lo));
		}
		const auto df = RefNumber(pair[1]);
		if (!df)
			return std::nullopt;
		// std::vector<unsigned char> compares as unsigned bytes, lexicographically.
		if (!ref.terms.empty() && !(ref.terms.back().first < term))
			return std::nullopt;
		ref.terms.emplace_back(std::move(term), *df);
	}
	return ref;
}

std::string
RefFormat(uint64_t n, uint64_t len, const std::vector<uint64_t> &fields, const std::map<Bytes, uint64_t> &terms)
{
	std::string out = "n=" + std::to_string(n) + " len=" + std::to_string(len);
	for (std::size_t f = 0; f < fields.size(); f++)
		out += (f == 0 ? " fields=" : ",") + std::to_string(fields[f]);
	out += " df=";
	bool first = true;
	for (const auto &[term, df] : terms)
	{
		if (!first)
			out += ',';
		first = false;
		for (unsigned char c : term)
		{
			out += "0123456789abcdef"[c >> 4];
			out += "0123456789abcdef"[c & 15];
		}
		out += ':' + std::to_string(df);
	}
	return out;
}

std::string
AsString(const Bytes &b)
{
	return std::string(b.begin(), b.end());
}

// The reference sum of several texts: false where it overflows or meets
// another number of fields.
struct RefSum {
	bool started = false;
	uint64_t n = 0, len = 0;
	std::vector<uint64_t> fields;
	std::map<Bytes, uint64_t> terms;

	static bool
	Add(uint64_t &to, uint64_t v)
	{
		if (v > kMax - to)
			return false;
		to += v;
		return true;
	}

	bool
	Add(const Ref &r)
	{
		if (started && r.fields.size() != fields.size())
			return false;
		if (!started)
			fields.assign(r.fields.size(), 0);
		started = true;
		bool ok = Add(n, r.n) && Add(len, r.len);
		for (std::size_t f = 0; ok && f < r.fields.size(); f++)
			ok = Add(fields[f], r.fields[f]);
		for (std::size_t t = 0; ok && t < r.terms.size(); t++)
			ok = Add(terms[r.terms[t].first], r.terms[t].second);
		return ok;
	}

	std::string Format() const { return RefFormat(n, len, fields, terms); }
};

void
CheckOne(std::string_view text, const fts::TermStatistics &stats, const Ref &ref)
{
	if (stats.doc_count != ref.n || stats.total_length != ref.len)
		fuzz::Violated("the totals differ from the reference's");
	const uint32_t field_count = ref.fields.empty() ? 1 : static_cast<uint32_t>(ref.fields.size());
	if (stats.field_count != field_count)
		fuzz::Violated("the number of fields differs from the reference's");
	for (uint32_t f = 0; f < fts::kMaxStatisticsFields; f++)
		if (stats.field_length[f] != (f < ref.fields.size() ? ref.fields[f] : 0))
			fuzz::Violated("a field length differs from the reference's");
	if (stats.terms.data() < text.data() || stats.terms.data() + stats.terms.size() != text.data() + text.size())
		fuzz::Violated("the term list is not the end of the text");

	// Find: every term, and bytes next to the terms.
	std::map<Bytes, uint64_t> terms(ref.terms.begin(), ref.terms.end());
	auto expect = [&](const Bytes &term) {
		uint64_t df = 0;
		const bool found = stats.Find(AsString(term), &df);
		const auto it = terms.find(term);
		if (found != (it != terms.end()))
			fuzz::Violated(found ? "Find finds a term the list lacks" : "Find misses a term of the list");
		if (found && df != it->second)
			fuzz::Violated("Find gives a term another df");
	};
	expect({});
	for (std::size_t t = 0; t < ref.terms.size() && t < 256; t++)
	{
		Bytes term = ref.terms[t].first;
		expect(term);
		for (unsigned char extra : {0x00, 0x7f, 0x80, 0xff})
		{
			term.push_back(extra);
			expect(term);
			term.pop_back();
		}
		term.pop_back();
		expect(term);
		if (!term.empty())
		{
			term.back()++;
			expect(term);
		}
	}

	// Summed alone, an accepted text formats to itself.
	const char *error = nullptr;
	fts::StatisticsSum once;
	if (!once.Add(stats, &error))
		fuzz::Violated("the sum of one text fails");
	if (once.Format() != text)
		fuzz::Violated("an accepted text is not what its sum of one formats");

	// Twice: every number doubled, or an overflow exactly when one of them
	// exceeds (2^63 - 1) / 2.
	RefSum twice_ref;
	const bool ref_ok = twice_ref.Add(ref) && twice_ref.Add(ref);
	fts::StatisticsSum twice;
	if (!twice.Add(stats, &error))
		fuzz::Violated("the sum of one text fails");
	error = nullptr;
	const bool ok = twice.Add(stats, &error);
	if (ok != ref_ok)
		fuzz::Violated(ok ? "a doubled number over 2^63 - 1 is no overflow" : "an overflow where there is none");
	if (!ok && error == nullptr)
		fuzz::Violated("a failed sum names no error");
	if (ok && twice.Format() != twice_ref.Format())
		fuzz::Violated("the sum of a text twice does not double its numbers");
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size)
{
	// An exact copy, so that ASan sees any read past the input.
	std::vector<char> bytes(data, data + size);
	const std::string_view input(bytes.data(), bytes.size());
	std::vector<std::string_view> lines = SplitOn(input, '\n');
	if (lines.size() > 8)
		lines.resize(8);

	// Each line its own exact allocation too.
	std::vector<std::vector<char>> copies;
	std::vector<fts::TermStatistics> parsed;
	std::vector<Ref> refs;
	for (std::string_view line : lines)
	{
		copies.emplace_back(line.begin(), line.end());
		const std::string_view text(copies.back().data(), copies.back().size());
		fts::TermStatistics stats;
		const char *error = nullptr;
		const bool accepted = fts::TermStatistics::Parse(text, &stats, &error);
		const std::optional<Ref> ref = RefParse(text);
		if (accepted != ref.has_value())
			fuzz::Violated(accepted ? "Parse accepts a text the reference rejects"
									: "Parse rejects a text the reference accepts");
		if (!accepted)
		{
			if (error == nullptr || *error == '\0')
				fuzz::Violated("a rejection names no error");
			continue;
		}
		CheckOne(text, stats, *ref);
		parsed.push_back(stats);
		refs.push_back(*ref);
	}

	// Several texts that all parse: their sum is the reference's.
	if (lines.size() >= 2 && parsed.size() == lines.size())
	{
		fts::StatisticsSum sum;
		RefSum ref_sum;
		for (std::size_t i = 0; i < parsed.size(); i++)
		{
			const char *error = nullptr;
			const bool ok = sum.Add(parsed[i], &error);
			const bool ref_ok = ref_sum.Add(refs[i]);
			if (ok != ref_ok)
				fuzz::Violated(ok ? "a sum succeeds where the reference fails"
								  : "a sum fails where the reference does not");
			if (!ok)
			{
				if (error == nullptr)
					fuzz::Violated("a failed sum names no error");
				return 0; // the sum is left part-way
			}
		}
		const std::string text = sum.Format();
		if (text != ref_sum.Format())
			fuzz::Violated("the sum differs from the reference's");
		fts::TermStatistics again;
		const char *error = nullptr;
		if (!fts::TermStatistics::Parse(text, &again, &error))
			fuzz::Violated("a sum's text does not parse");
	}
	return 0;
}
