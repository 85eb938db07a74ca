// Which fault the fault-injecting proxy plays on each request it is sent. The faults come
// from a seeded random generator, so that a run that failed can be played again with the
// seed it printed; the order in which concurrent requests arrive still varies, so a replay
// meets the same kinds of faults at the same rate, not always on the same requests.
#pragma once

#include <QByteArray>
#include <QHash>
#include <QMap>
#include <QRandomGenerator>
#include <QString>

enum class Fault {
    None,
    ResetBeforeForwarding,  ///< the connection is reset once the request head is in; the server never sees it
    ResetAfterForwarding,   ///< the whole request goes to the server, then the client's connection is reset
    ServerError,            ///< 500, 502, 503 or 504 from the proxy, in bursts of several requests in a row
    TooManyRequests,        ///< 429 with `Retry-After: 1`
    CutResponse,            ///< the answer stops part-way (a stream after some events) and the connection closes
    Silence,                ///< the answer stops part-way and the connection stays open, silent
    SlowBody,               ///< the answer arrives a few bytes at a time
};

QString faultName(Fault fault);

struct FaultPlan
{
    Fault fault = Fault::None;
    int status = 0;             ///< for ServerError
    qint64 bodyBytes = 0;       ///< for CutResponse and Silence: how much of the answer's body gets through
};

class FaultSchedule
{
public:
    struct Limits
    {
        /// The share of requests that start a fault (a burst of 5xx then takes the next few too).
        double rate = 0.12;
        /// Faults played on the attempts of one call (one X-Request-ID, which a client keeps
        /// across the retries of a call): below the client's attempts, every call that it
        /// retries gets through at last, so that what fails is the client, not bad luck.
        int perCall = 2;
        /// Silences in all: each costs the client its whole silence timeout.
        int silences = 2;
    };

    FaultSchedule(quint32 seed, Limits limits);

    /// SANDFLOW_FAULT_SEED when set, else a new random seed.
    static quint32 seedFromEnvironment();

    /// The fault for the next request, which carries `requestId` (may be empty).
    FaultPlan next(const QByteArray &requestId);

    quint32 seed() const { return m_seed; }
    /// How often each fault was played.
    const QMap<Fault, int> &played() const { return m_played; }

private:
    FaultPlan draw();

    quint32 m_seed;
    Limits m_limits;
    QRandomGenerator m_random;
    int m_burstLeft = 0;
    int m_burstStatus = 0;
    int m_silencesLeft = 0;
    QHash<QByteArray, int> m_faultsPerCall;
    QMap<Fault, int> m_played;
};
