#include "egressoptions.h"

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;

QList<QCommandLineOption> egressOptions()
{
    return {QCommandLineOption(u"dns-upstream"_s,
                               u"The DNS server (ADDRESS[:PORT], [IPv6]:PORT) that resolves the names a sandbox's network "
                               u"policy allows; without it the host's resolver does, /etc/hosts included (local runner)"_s,
                               u"ADDRESS"_s)};
}

bool applyEgressOptions(const QCommandLineParser &parser, LocalRunner::Options *options, QString *error)
{
    if (!parser.isSet(u"dns-upstream"_s))
        return true;
    const QString value = parser.value(u"dns-upstream"_s);
    QString address = value;
    QString port;
    if (value.startsWith(u'[')) {
        // [IPv6] or [IPv6]:PORT
        const qsizetype close = value.indexOf(u']');
        address = value.mid(1, close - 1);
        if (close > 0 && value.size() > close + 1)
            port = value.mid(close + 1).startsWith(u':') ? value.mid(close + 2) : u"bad"_s;
    } else if (value.count(u':') == 1) {
        address = value.section(u':', 0, 0);
        port = value.section(u':', 1);
    }
    const QHostAddress host(address);
    bool portIsNumber = true;
    const uint number = port.isEmpty() ? 53 : port.toUInt(&portIsNumber);
    if (host.isNull() || !portIsNumber || number == 0 || number > 65535) {
        *error = u"--dns-upstream wants ADDRESS[:PORT] (an IP address, IPv6 in brackets with a port), not `%1`"_s.arg(value);
        return false;
    }
    options->dnsUpstream = host;
    options->dnsUpstreamPort = quint16(number);
    return true;
}

} // namespace Sandflow::Cli
