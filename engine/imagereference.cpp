#include "imagereference.h"

#include <QRegularExpression>
#include <QUrl>

namespace Sandflow {

using namespace Qt::StringLiterals;

namespace {

// The grammar of Docker's distribution/reference package.
const QRegularExpression &pathComponent()
{
    static const QRegularExpression re(u"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$"_s);
    return re;
}

const QRegularExpression &tagPattern()
{
    static const QRegularExpression re(u"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"_s);
    return re;
}

const QRegularExpression &domainPattern()
{
    // A name or IPv4 address with an optional port, or a bracketed IPv6 address.
    static const QRegularExpression re(
        u"^(?:(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])(?:\\.(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]))*"
        u"|\\[[0-9A-Fa-f:.]+\\])(?::[0-9]+)?$"_s);
    return re;
}

const QRegularExpression &digestPattern()
{
    static const QRegularExpression re(u"^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$"_s);
    return re;
}

constexpr qsizetype MaxNameLength = 255;

bool isValidTag(const QString &tag, QString *error)
{
    if (tagPattern().match(tag).hasMatch())
        return true;
    *error = u"`%1` is not a valid tag: letters, digits, `_`, `.` and `-`, at most 128, not starting with "
             u"`.` or `-`"_s.arg(tag);
    return false;
}
constexpr char DockerHub[] = "docker.io";

/// `PATH[:TAG]` of a transport, the tag after the last colon past the last slash.
void splitPathAndTag(const QString &text, QString *path, QString *tag)
{
    const qsizetype colon = text.lastIndexOf(u':');
    if (colon > text.lastIndexOf(u'/')) {
        *path = text.left(colon);
        *tag = text.mid(colon + 1);
    } else {
        *path = text;
    }
}

std::optional<ImageReference> parseTransport(ImageReference::Source source, const QString &transport,
                                             const QString &rest, QString *error)
{
    ImageReference reference;
    reference.source = source;
    if (source == ImageReference::Source::OciLayout)
        splitPathAndTag(rest, &reference.path, &reference.tag);
    else
        reference.path = rest;
    if (reference.path.isEmpty()) {
        *error = u"`%1:` needs a path after it"_s.arg(transport);
        return std::nullopt;
    }
    if (!reference.tag.isEmpty() && !isValidTag(reference.tag, error))
        return std::nullopt;
    return reference;
}

} // namespace

std::optional<ImageReference> ImageReference::parse(const QString &text, QString *error)
{
    if (text.startsWith(u"docker-archive:"_s))
        return parseTransport(Source::DockerArchive, u"docker-archive"_s, text.mid(15), error);
    if (text.startsWith(u"oci-layout:"_s))
        return parseTransport(Source::OciLayout, u"oci-layout"_s, text.mid(11), error);
    if (text.isEmpty()) {
        *error = u"the image reference is empty"_s;
        return std::nullopt;
    }
    ImageReference reference;
    QString name = text;
    if (const qsizetype at = name.indexOf(u'@'); at >= 0) {
        reference.digest = name.mid(at + 1);
        name.truncate(at);
        if (!digestPattern().match(reference.digest).hasMatch()) {
            *error = u"`%1` is not a digest: `sha256:` and 64 lowercase hexadecimal digits"_s.arg(reference.digest);
            return std::nullopt;
        }
    }
    if (const qsizetype colon = name.lastIndexOf(u':'); colon > name.lastIndexOf(u'/')) {
        reference.tag = name.mid(colon + 1);
        name.truncate(colon);
        if (!isValidTag(reference.tag, error))
            return std::nullopt;
    }
    // The first component names a registry when it looks like a host: it has a dot or a port,
    // is `localhost`, or has capitals (which repositories may not).
    const qsizetype slash = name.indexOf(u'/');
    const QString first = name.left(slash);
    const bool hasDomain = slash > 0
                           && (first.contains(u'.') || first.contains(u':') || first == u"localhost"_s
                               || first != first.toLower());
    QString remainder = name;
    if (hasDomain) {
        reference.registry = first;
        remainder = name.mid(slash + 1);
        if (!domainPattern().match(reference.registry).hasMatch()) {
            *error = u"`%1` is not a registry's host name"_s.arg(reference.registry);
            return std::nullopt;
        }
    } else {
        reference.registry = QString::fromLatin1(DockerHub);
    }
    if (reference.registry == u"index.docker.io"_s)
        reference.registry = QString::fromLatin1(DockerHub);
    if (reference.registry == QLatin1StringView(DockerHub) && !remainder.contains(u'/'))
        remainder.prepend(u"library/"_s);
    if (remainder.isEmpty()) {
        *error = u"`%1` names no repository"_s.arg(text);
        return std::nullopt;
    }
    for (const QString &component : remainder.split(u'/')) {
        if (pathComponent().match(component).hasMatch())
            continue;
        *error = component != component.toLower()
                     ? u"repository `%1` must be lowercase"_s.arg(remainder)
                     : u"`%1` in `%2` is not a repository name: lowercase letters and digits, separated by `.`, "
                       u"`_`, `__` or dashes"_s.arg(component, remainder);
        return std::nullopt;
    }
    reference.repository = remainder;
    if (reference.registry.size() + 1 + remainder.size() > MaxNameLength) {
        *error = u"the image name is longer than %1 characters"_s.arg(MaxNameLength);
        return std::nullopt;
    }
    if (reference.tag.isEmpty() && reference.digest.isEmpty())
        reference.tag = u"latest"_s;
    return reference;
}

QString ImageReference::canonical() const
{
    switch (source) {
    case Source::DockerArchive:
        return u"docker-archive:"_s + path;
    case Source::OciLayout:
        return u"oci-layout:"_s + path + (tag.isEmpty() ? QString() : u':' + tag);
    case Source::Registry:
        break;
    }
    QString text = registry + u'/' + repository;
    if (!tag.isEmpty())
        text += u':' + tag;
    if (!digest.isEmpty())
        text += u'@' + digest;
    return text;
}

QString ImageReference::apiHost() const
{
    return registry == QLatin1StringView(DockerHub) ? u"registry-1.docker.io"_s : registry;
}

bool ImageReference::isLoopbackRegistry() const
{
    // QUrl splits a host from its port, brackets of IPv6 included.
    const QString host = QUrl(u"http://"_s + registry).host();
    static const QRegularExpression loopbackIpv4(u"^127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}$"_s);
    return host == u"localhost"_s || host == u"::1"_s || loopbackIpv4.match(host).hasMatch();
}

} // namespace Sandflow
