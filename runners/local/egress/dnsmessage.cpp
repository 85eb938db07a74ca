#include "dnsmessage_p.h"

#include <QSet>
#include <QtEndian>

#include <ldns/ldns.h>

#include <memory>

namespace Sandflow::Internal::Dns {

namespace {

constexpr int HeaderSize = 12;
constexpr quint8 ResponseFlag = 0x80;       // QR, in the header's third byte
constexpr quint8 OpcodeBits = 0x78;
constexpr quint8 RecursionDesiredFlag = 0x01;
constexpr quint8 RecursionAvailableFlag = 0x80;     // RA, in the fourth byte
// A CNAME chain longer than this is not followed further (resolvers give up around 8-16).
constexpr int MaximumCnameHops = 16;

struct PacketDeleter
{
    void operator()(ldns_pkt *packet) const { ldns_pkt_free(packet); }
};
using Packet = std::unique_ptr<ldns_pkt, PacketDeleter>;

Packet parsed(const QByteArray &message)
{
    ldns_pkt *packet = nullptr;
    const auto *data = reinterpret_cast<const uint8_t *>(message.constData());
    if (ldns_wire2pkt(&packet, data, size_t(message.size())) != LDNS_STATUS_OK)
        return Packet();
    return Packet(packet);
}

/// A header-only response to a query whose header is readable: its ID, opcode and RD bit.
QByteArray headerOnlyAnswer(const QByteArray &query, ResponseCode code)
{
    QByteArray header(HeaderSize, '\0');
    header[0] = query[0];
    header[1] = query[1];
    header[2] = char(ResponseFlag | (quint8(query[2]) & (OpcodeBits | RecursionDesiredFlag)));
    header[3] = char(RecursionAvailableFlag | quint8(code));
    return header;
}

bool isHostNameCharacter(uchar c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/// A domain name's text, or std::nullopt when a label holds anything a host name cannot:
/// such a name could never match a rule, and its escapes (`\.`) could fool suffix matching.
std::optional<QString> hostName(const ldns_rdf *name)
{
    if (!name || ldns_rdf_get_type(name) != LDNS_RDF_TYPE_DNAME)
        return std::nullopt;
    const uint8_t *data = ldns_rdf_data(name);
    const size_t size = ldns_rdf_size(name);
    QString text;
    size_t position = 0;
    while (position < size && data[position] != 0) {
        const size_t length = data[position++];
        if (position + length > size)
            return std::nullopt;
        if (!text.isEmpty())
            text += u'.';
        for (size_t i = position; i < position + length; ++i) {
            if (!isHostNameCharacter(data[i]))
                return std::nullopt;
            text += QLatin1Char(char(data[i]));
        }
        position += length;
    }
    return text;
}

/// A name's text for comparing names within one response: lower case, escapes kept.
QString comparableName(const ldns_rdf *name)
{
    char *text = ldns_rdf2str(name);
    const QString result = QString::fromLatin1(text ? text : "").toLower();
    free(text);
    return result;
}

ldns_rr *addressRecord(const ldns_rr *question, const QHostAddress &address, int ttlSeconds)
{
    const bool isIpv4 = address.protocol() == QAbstractSocket::IPv4Protocol;
    ldns_rr *record = ldns_rr_new();
    ldns_rr_set_owner(record, ldns_rdf_clone(ldns_rr_owner(question)));
    ldns_rr_set_type(record, isIpv4 ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA);
    ldns_rr_set_class(record, ldns_rr_get_class(question));
    ldns_rr_set_ttl(record, uint32_t(ttlSeconds));
    if (isIpv4) {
        const quint32 value = qToBigEndian(address.toIPv4Address());
        ldns_rr_push_rdf(record, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, sizeof value, &value));
    } else {
        const Q_IPV6ADDR value = address.toIPv6Address();
        ldns_rr_push_rdf(record, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_AAAA, sizeof value.c, value.c));
    }
    return record;
}

QByteArray wire(const ldns_pkt *packet)
{
    uint8_t *data = nullptr;
    size_t size = 0;
    if (ldns_pkt2wire(&data, packet, &size) != LDNS_STATUS_OK)
        return QByteArray();
    QByteArray result(reinterpret_cast<const char *>(data), qsizetype(size));
    free(data);
    return result;
}

QHostAddress recordAddress(const ldns_rr *record)
{
    const ldns_rdf *rdata = ldns_rr_rdf(record, 0);
    if (!rdata)
        return QHostAddress();
    if (ldns_rr_get_type(record) == LDNS_RR_TYPE_A && ldns_rdf_size(rdata) == 4)
        return QHostAddress(qFromBigEndian<quint32>(ldns_rdf_data(rdata)));
    if (ldns_rr_get_type(record) == LDNS_RR_TYPE_AAAA && ldns_rdf_size(rdata) == 16)
        return QHostAddress(ldns_rdf_data(rdata));
    return QHostAddress();
}

/// The names the question's name leads to through the answer's CNAME records, itself first.
QSet<QString> aliasChain(const ldns_rr_list *records, const QString &questionName, int &ttlSeconds)
{
    QSet<QString> chain{questionName};
    for (int hop = 0; hop < MaximumCnameHops; ++hop) {
        bool grew = false;
        for (size_t i = 0; i < ldns_rr_list_rr_count(records); ++i) {
            const ldns_rr *record = ldns_rr_list_rr(records, i);
            if (ldns_rr_get_type(record) != LDNS_RR_TYPE_CNAME || !ldns_rr_rdf(record, 0)
                || !chain.contains(comparableName(ldns_rr_owner(record))))
                continue;
            const QString target = comparableName(ldns_rr_rdf(record, 0));
            if (chain.contains(target))
                continue;
            chain.insert(target);
            ttlSeconds = qMin(ttlSeconds, int(qMin<uint32_t>(ldns_rr_ttl(record), INT_MAX)));
            grew = true;
        }
        if (!grew)
            break;
    }
    return chain;
}

} // namespace

ReadQuery readQuery(const QByteArray &message)
{
    if (message.size() < HeaderSize || (quint8(message[2]) & ResponseFlag))
        return {};
    if ((quint8(message[2]) & OpcodeBits) != 0)
        return {std::nullopt, headerOnlyAnswer(message, ResponseCode::NotImplemented)};
    const Packet packet = parsed(message);
    const ReadQuery formatError{std::nullopt, headerOnlyAnswer(message, ResponseCode::FormatError)};
    if (!packet || ldns_pkt_qdcount(packet.get()) != 1 || ldns_rr_list_rr_count(ldns_pkt_question(packet.get())) != 1)
        return formatError;
    const ldns_rr *question = ldns_rr_list_rr(ldns_pkt_question(packet.get()), 0);
    const std::optional<QString> name = hostName(ldns_rr_owner(question));
    if (!name)
        return formatError;
    return {Query{message, ldns_pkt_id(packet.get()), *name, quint16(ldns_rr_get_type(question)),
                  quint16(ldns_rr_get_class(question))},
            QByteArray()};
}

QByteArray answer(const Query &query, ResponseCode code, const QList<QHostAddress> &addresses, int ttlSeconds)
{
    const Packet asked = parsed(query.message);
    if (!asked)
        return headerOnlyAnswer(query.message, ResponseCode::ServerFailure);
    const Packet packet(ldns_pkt_new());
    ldns_pkt_set_id(packet.get(), query.id);
    ldns_pkt_set_qr(packet.get(), true);
    ldns_pkt_set_opcode(packet.get(), LDNS_PACKET_QUERY);
    ldns_pkt_set_rd(packet.get(), ldns_pkt_rd(asked.get()));
    ldns_pkt_set_ra(packet.get(), true);
    ldns_pkt_set_rcode(packet.get(), uint8_t(code));
    const ldns_rr *question = ldns_rr_list_rr(ldns_pkt_question(asked.get()), 0);
    ldns_pkt_push_rr(packet.get(), LDNS_SECTION_QUESTION, ldns_rr_clone(question));
    const auto wanted = query.type == A ? QAbstractSocket::IPv4Protocol : QAbstractSocket::IPv6Protocol;
    for (const QHostAddress &address : addresses) {
        if (address.protocol() == wanted && (query.type == A || query.type == Aaaa))
            ldns_pkt_push_rr(packet.get(), LDNS_SECTION_ANSWER, addressRecord(question, address, ttlSeconds));
    }
    return wire(packet.get());
}

QByteArray withId(QByteArray message, quint16 id)
{
    if (message.size() >= HeaderSize) {
        message[0] = char(id >> 8);
        message[1] = char(id & 0xff);
    }
    return message;
}

quint16 messageId(const QByteArray &message)
{
    Q_ASSERT(message.size() >= HeaderSize);
    return quint16((quint8(message[0]) << 8) | quint8(message[1]));
}

std::optional<AnsweredAddresses> answeredAddresses(const QByteArray &response)
{
    const Packet packet = parsed(response);
    if (!packet || ldns_rr_list_rr_count(ldns_pkt_question(packet.get())) != 1)
        return std::nullopt;
    const QString questionName = comparableName(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(packet.get()), 0)));
    const ldns_rr_list *records = ldns_pkt_answer(packet.get());
    AnsweredAddresses result;
    result.ttlSeconds = INT_MAX;
    const QSet<QString> names = aliasChain(records, questionName, result.ttlSeconds);
    for (size_t i = 0; i < ldns_rr_list_rr_count(records); ++i) {
        const ldns_rr *record = ldns_rr_list_rr(records, i);
        const QHostAddress address = recordAddress(record);
        if (address.isNull() || !names.contains(comparableName(ldns_rr_owner(record))))
            continue;
        result.addresses.append(address);
        result.ttlSeconds = qMin(result.ttlSeconds, int(qMin<uint32_t>(ldns_rr_ttl(record), INT_MAX)));
    }
    if (result.addresses.isEmpty())
        return std::nullopt;
    return result;
}

} // namespace Sandflow::Internal::Dns
