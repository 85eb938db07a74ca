#include "opensandboxclient.h"

namespace Sandflow {

using namespace Qt::StringLiterals;

namespace {

struct SplitDomain
{
    QString scheme;   ///< empty when the domain has none
    QString rest;     ///< host:port[/prefix], without a trailing `/` or `/v1`
};

SplitDomain splitDomain(const QString &domain)
{
    SplitDomain split;
    split.rest = domain.trimmed();
    const qsizetype separator = split.rest.indexOf(u"://"_s);
    if (separator > 0) {
        split.scheme = split.rest.left(separator).toLower();
        split.rest = split.rest.mid(separator + 3);
    }
    while (split.rest.endsWith(u'/'))
        split.rest.chop(1);
    // The SDKs accept a domain copied from an API URL and add /v1 themselves.
    if (split.rest.endsWith(u"/v1"_s))
        split.rest.chop(3);
    while (split.rest.endsWith(u'/'))
        split.rest.chop(1);
    return split;
}

} // namespace

OpenSandboxConfig OpenSandboxConfig::fromEnvironment()
{
    OpenSandboxConfig config;
    const QString domain = qEnvironmentVariable("OPEN_SANDBOX_DOMAIN");
    if (!domain.trimmed().isEmpty())
        config.domain = domain;
    config.apiKey = qEnvironmentVariable("OPEN_SANDBOX_API_KEY");
    return config;
}

QString OpenSandboxConfig::effectiveProtocol() const
{
    const SplitDomain split = splitDomain(domain);
    return split.scheme.isEmpty() ? protocol.toLower() : split.scheme;
}

QString OpenSandboxConfig::serverAddress() const
{
    return effectiveProtocol() + u"://"_s + splitDomain(domain).rest;
}

QUrl OpenSandboxConfig::lifecycleUrl() const
{
    return QUrl(serverAddress() + u"/v1"_s);
}

QUrl OpenSandboxEndpoint::url(const QString &protocol) const
{
    QString address = endpoint;
    while (address.endsWith(u'/'))
        address.chop(1);
    // Servers send no scheme; one that does is taken at its word.
    if (address.contains(u"://"_s))
        return QUrl(address);
    return QUrl(protocol + u"://"_s + address);
}

} // namespace Sandflow
