// Where the CLI writes: stdout for results, stderr for diagnostics, colour only on a TTY
// and never when NO_COLOR is set (https://no-color.org).
#pragma once

#include "diagnostics.h"

#include <QByteArray>
#include <QString>

namespace Sandflow::Cli {

class Terminal
{
public:
    Terminal();

    bool colourOut() const { return m_colourOut; }
    bool colourErr() const { return m_colourErr; }

    void out(const QString &text) const;
    void err(const QString &text) const;
    /// Bytes as they are, e.g. a command's output that need not be UTF-8.
    void outBytes(const QByteArray &bytes) const;
    void errBytes(const QByteArray &bytes) const;
    /// `FILE:LINE:COL: error: MESSAGE`, with the severity coloured on a TTY.
    void diagnostic(const Diagnostic &diagnostic) const;

private:
    bool m_colourOut = false;
    bool m_colourErr = false;
};

} // namespace Sandflow::Cli
