#include "terminaltext_p.h"

#include <QStringView>

#include <algorithm>
#include <locale.h>
#include <wchar.h>

namespace Sandflow::Cli::Internal {

namespace {

constexpr char32_t Escape = 0x1b;
constexpr char32_t Bell = 0x07;
constexpr char32_t Replacement = 0xfffd;
constexpr char32_t Csi = 0x9b;                // the C1 control that opens a control sequence
constexpr char32_t StringTerminator = 0x9c;   // ST, the end of a string

/// DCS, SOS, OSC, PM and APC: the C1 controls that open a string, which ST ends.
bool opensString(char32_t c)
{
    return c == 0x90 || c == 0x98 || c == 0x9d || c == 0x9e || c == 0x9f;
}

bool isControl(char32_t c)
{
    return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

bool isVariationSelector(char32_t c)
{
    return (c >= 0xfe00 && c <= 0xfe0f) || (c >= 0xe0100 && c <= 0xe01ef);
}

bool inRange(QStringView text, qsizetype i, char16_t first, char16_t last)
{
    return i < text.size() && text[i].unicode() >= first && text[i].unicode() <= last;
}

// wcwidth() answers in the thread's locale, and only a UTF-8 one knows Unicode's widths.
// While this lives, the thread uses C.UTF-8, whatever the user's locale: the views write
// UTF-8 in any case.
class Widths
{
public:
    Widths()
        : m_previous(utf8() ? uselocale(utf8()) : locale_t(nullptr))
    {
    }
    ~Widths()
    {
        if (m_previous)
            uselocale(m_previous);
    }
    Widths(const Widths &) = delete;
    Widths &operator=(const Widths &) = delete;

    /// The columns of a printable character; -1 for one that terminals count differently.
    int of(char32_t c) const
    {
        // A regional indicator is one column wide in some terminals and two in others, and
        // with the next one a flag.
        if (c >= 0x1f1e6 && c <= 0x1f1ff)
            return -1;
        return wcwidth(wchar_t(c));
    }

private:
    static locale_t utf8()
    {
        static const locale_t locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", locale_t(nullptr));
        return locale;
    }

    locale_t m_previous;
};

// The character at `i`, moving `i` past it; half a surrogate pair reads as �.
char32_t next(QStringView text, qsizetype &i)
{
    const QChar c = text[i++];
    if (c.isHighSurrogate() && i < text.size() && text[i].isLowSurrogate())
        return QChar::surrogateToUcs4(c, text[i++]);
    return c.isSurrogate() ? Replacement : char32_t(c.unicode());
}

// Moves `i` past the rest of an escape sequence whose first character, `introducer`, was
// just read: ESC, CSI or a control that opens a string.
void skipSequence(QStringView text, qsizetype &i, char32_t introducer)
{
    char32_t control = introducer;
    if (introducer == Escape) {
        if (inRange(text, i, 0x40, 0x5f)) {
            // ESC and a capital letter or one of @[\]^_ is the 7-bit form of a C1 control.
            control = text[i++].unicode() + 0x40;
        } else {
            // ESC, intermediate characters and a final one: character sets, ESC 7, ESC c.
            while (inRange(text, i, 0x20, 0x2f))
                ++i;
            if (inRange(text, i, 0x30, 0x7e))
                ++i;
            return;
        }
    }
    if (control == Csi) {
        // Parameters and intermediate characters, then the final one.
        while (inRange(text, i, 0x20, 0x3f))
            ++i;
        if (inRange(text, i, 0x40, 0x7e))
            ++i;
    } else if (opensString(control)) {
        // A string ends with BEL, ST or ESC \; a terminal also ends it at any other ESC,
        // which then opens a sequence of its own.
        while (i < text.size()) {
            const char32_t c = text[i].unicode();
            if (c == Bell || c == StringTerminator) {
                ++i;
                return;
            }
            if (c == Escape) {
                if (i + 1 < text.size() && text[i + 1] == u'\\')
                    i += 2;
                return;
            }
            ++i;
        }
    }
}

// terminalText() of `text`, cut to `width` columns unless `width` is negative.
QString safeText(QStringView text, bool keepLineBreaks, int width)
{
    const Widths widths;
    QString safe;
    safe.reserve(text.size());
    int columns = 0;
    bool marked = false;   // a character precedes on the line that a combining one may mark
    for (qsizetype i = 0; i < text.size();) {
        char32_t c = next(text, i);
        if (c == Escape || c == Csi || opensString(c)) {
            skipSequence(text, i, c);
            continue;
        }
        if (c == u'\n' && keepLineBreaks) {
            safe += u'\n';
            columns = 0;
            marked = false;
            continue;
        }
        if (isControl(c))
            c = u' ';
        // Invisible characters that join, separate or reorder others, and the selectors
        // that make a character an emoji two columns wide in some terminals only.
        if (isVariationSelector(c) || QChar::category(c) == QChar::Other_Format)
            continue;
        int columnsOfC = widths.of(c);
        if (columnsOfC < 0) {
            c = Replacement;
            columnsOfC = 1;
        }
        if (columnsOfC == 0 && !marked)
            continue;
        if (width >= 0 && columns + columnsOfC > width)
            break;
        safe += QChar::fromUcs4(c);
        columns += columnsOfC;
        marked = true;
    }
    return safe;
}

} // namespace

QString terminalText(const QString &text)
{
    return safeText(text, true, -1);
}

QString terminalLine(const QString &text, int width)
{
    return safeText(text, false, std::max(width, 0));
}

qsizetype terminalRows(const QString &line, int width)
{
    const Widths widths;
    qsizetype rows = 1;
    int column = 0;
    for (qsizetype i = 0; i < line.size();) {
        const int columnsOfC = widths.of(next(line, i));
        if (columnsOfC <= 0)
            continue;
        // A wide character that does not fit at the end of a row starts the next one.
        if (column > 0 && column + columnsOfC > width) {
            ++rows;
            column = 0;
        }
        column += columnsOfC;
    }
    return rows;
}

} // namespace Sandflow::Cli::Internal
