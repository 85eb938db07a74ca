#include "terminal.h"

#include <cstdio>
#include <unistd.h>

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;

static bool wantsColour(int fd)
{
    return isatty(fd) && qEnvironmentVariableIsEmpty("NO_COLOR") && qgetenv("TERM") != "dumb";
}

Terminal::Terminal()
    : m_colourOut(wantsColour(STDOUT_FILENO))
    , m_colourErr(wantsColour(STDERR_FILENO))
{
}

void Terminal::out(const QString &text) const
{
    outBytes(text.toUtf8());
}

void Terminal::err(const QString &text) const
{
    errBytes(text.toUtf8());
}

void Terminal::outBytes(const QByteArray &bytes) const
{
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stdout);
    std::fflush(stdout);
}

void Terminal::errBytes(const QByteArray &bytes) const
{
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stderr);
    std::fflush(stderr);
}

void Terminal::diagnostic(const Diagnostic &diagnostic) const
{
    QString line = diagnostic.toString();
    if (m_colourErr) {
        const bool isError = diagnostic.severity == Diagnostic::Severity::Error;
        const QString label = isError ? u"error:"_s : u"warning:"_s;
        const QString colour = isError ? u"\x1b[1;31m"_s : u"\x1b[1;33m"_s;
        const qsizetype at = line.indexOf(u' ' + label);
        if (at >= 0) {
            line = u"\x1b[1m%1\x1b[0m %2%3\x1b[0m%4"_s.arg(line.left(at), colour, label,
                                                            line.mid(at + 1 + label.size()));
        }
    }
    err(line + u'\n');
}

} // namespace Sandflow::Cli
