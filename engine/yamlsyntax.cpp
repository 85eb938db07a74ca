#include "yamlsyntax_p.h"

#include <yaml.h>

#include <cstring>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

// Owns a libyaml parser, which must be deleted on every path.
class Parser
{
public:
    explicit Parser(const QByteArray &text)
    {
        m_ok = yaml_parser_initialize(&m_parser);
        if (m_ok)
            yaml_parser_set_input_string(&m_parser, reinterpret_cast<const unsigned char *>(text.constData()),
                                         size_t(text.size()));
    }
    ~Parser()
    {
        if (m_ok)
            yaml_parser_delete(&m_parser);
    }
    Parser(const Parser &) = delete;
    Parser &operator=(const Parser &) = delete;

    bool isValid() const { return m_ok; }
    yaml_parser_t *get() { return &m_parser; }

private:
    yaml_parser_t m_parser{};
    bool m_ok = false;
};

SourcePos position(const yaml_mark_t &mark)
{
    return {int(mark.line) + 1, int(mark.column) + 1};
}

// Reader errors (bad UTF-8, control characters) come with a byte offset, not a mark.
SourcePos positionOfOffset(const QByteArray &text, size_t offset)
{
    SourcePos pos{1, 1};
    for (qsizetype i = 0; i < qsizetype(offset) && i < text.size(); ++i) {
        const auto byte = uchar(text.at(i));
        if (byte == '\n') {
            ++pos.line;
            pos.column = 1;
        } else if ((byte & 0xC0) != 0x80) { // a column counts characters, as in marks
            ++pos.column;
        }
    }
    return pos;
}

bool is(const char *text, const char *expected)
{
    return text && std::strcmp(text, expected) == 0;
}

std::pair<SourcePos, QString> describeError(const yaml_parser_t &parser, const QByteArray &text)
{
    if (parser.error == YAML_READER_ERROR)
        return {positionOfOffset(text, parser.problem_offset), QString::fromUtf8(parser.problem)};
    const QString problem = QString::fromUtf8(parser.problem ? parser.problem : "syntax error");
    if (!parser.context)
        return {position(parser.problem_mark), problem};
    // A token the scanner could not finish (a quoted scalar, a key, a directive) is best
    // found where it starts; where the scanner gave up is often a later line.
    const yaml_mark_t &where = parser.error == YAML_SCANNER_ERROR ? parser.context_mark : parser.problem_mark;
    if (is(parser.context, "while scanning a quoted scalar") && is(parser.problem, "found unexpected end of stream"))
        return {position(where), u"unterminated quoted string (no closing quote before the end of the file)"_s};
    return {position(where), u"%1 %2"_s.arg(problem, QString::fromUtf8(parser.context))};
}

} // namespace

YamlStreamCheck checkYamlStream(const QByteArray &text)
{
    YamlStreamCheck check;
    Parser parser(text);
    if (!parser.isValid()) {
        check.error = std::pair{SourcePos{}, u"out of memory"_s};
        return check;
    }
    for (;;) {
        yaml_event_t event;
        if (!yaml_parser_parse(parser.get(), &event)) {
            check.error = describeError(*parser.get(), text);
            return check;
        }
        const yaml_event_type_t type = event.type;
        if (type == YAML_DOCUMENT_START_EVENT && ++check.documentCount == 2)
            check.secondDocument = position(event.start_mark);
        yaml_event_delete(&event);
        if (type == YAML_STREAM_END_EVENT)
            return check;
    }
}

} // namespace Sandflow::Internal
