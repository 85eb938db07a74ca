// DNS messages as the sandbox's resolver reads and writes them, through libldns. Every
// function here takes bytes from inside a sandbox: hostile input, read defensively.
#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QString>

#include <optional>

namespace Sandflow::Internal::Dns {

/// The RCODEs this resolver answers with (RFC 1035, 4.1.1).
enum class ResponseCode : quint8 {
    NoError = 0,
    FormatError = 1,
    ServerFailure = 2,
    NameError = 3,      ///< NXDOMAIN
    NotImplemented = 4,
};

/// Record types the resolver answers itself; any other is forwarded or answered empty.
enum RecordType : quint16 { A = 1, Aaaa = 28 };
/// The class of every address record; the others (CHAOS, HESIOD) have none.
constexpr quint16 InternetClass = 1;

/// A well-formed query with its one question.
struct Query
{
    QByteArray message;     ///< as it came, to forward or to echo the question from
    quint16 id = 0;
    /// The question's name, labels of letters, digits, `-` and `_` joined by dots, without
    /// the root's dot; empty for the root itself.
    QString name;
    quint16 type = 0;
    quint16 recordClass = 0;
};

/// What to do with a message a client sent.
struct ReadQuery
{
    std::optional<Query> query;     ///< set: answer it
    /// Set (and no query): send this at once, e.g. FORMERR. Neither: drop the message (no
    /// readable header, or a response rather than a query).
    QByteArray immediateAnswer;
};

/// Reads a client's message. A readable header with anything wrong behind it gets FORMERR
/// (a question count other than one, a name with other characters than a host name's,
/// records that do not parse), an opcode other than QUERY gets NOTIMP.
ReadQuery readQuery(const QByteArray &message);

/// The answer to `query`: its question echoed, recursion available, and an A or AAAA
/// record per address (for the query's type) with time to live `ttlSeconds`.
QByteArray answer(const Query &query, ResponseCode code, const QList<QHostAddress> &addresses = {}, int ttlSeconds = 0);

/// `message` with its ID replaced by `id`; a message shorter than a header is returned as is.
QByteArray withId(QByteArray message, quint16 id);

/// The ID of a message at least a header long.
quint16 messageId(const QByteArray &message);

/// The addresses a response gives for its question: the A and AAAA records of its answer
/// section owned by the question's name or by a name its CNAME records lead to.
struct AnsweredAddresses
{
    QList<QHostAddress> addresses;
    int ttlSeconds = 0;     ///< the shortest time to live along the way
};
std::optional<AnsweredAddresses> answeredAddresses(const QByteArray &response);

} // namespace Sandflow::Internal::Dns
