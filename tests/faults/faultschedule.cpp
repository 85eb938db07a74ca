#include "faultschedule.h"

#include <array>

using namespace Qt::StringLiterals;

QString faultName(Fault fault)
{
    switch (fault) {
    case Fault::None: return u"none"_s;
    case Fault::ResetBeforeForwarding: return u"reset before forwarding"_s;
    case Fault::ResetAfterForwarding: return u"reset after forwarding"_s;
    case Fault::ServerError: return u"5xx"_s;
    case Fault::TooManyRequests: return u"429"_s;
    case Fault::CutResponse: return u"cut answer"_s;
    case Fault::Silence: return u"silence"_s;
    case Fault::SlowBody: return u"slow body"_s;
    }
    return {};
}

FaultSchedule::FaultSchedule(quint32 seed, Limits limits)
    : m_seed(seed)
    , m_limits(limits)
    , m_random(seed)
    , m_silencesLeft(limits.silences)
{
}

quint32 FaultSchedule::seedFromEnvironment()
{
    bool set = false;
    const quint32 seed = qEnvironmentVariable("SANDFLOW_FAULT_SEED").toUInt(&set);
    return set ? seed : QRandomGenerator::system()->generate();
}

FaultPlan FaultSchedule::next(const QByteArray &requestId)
{
    // Drawn for every request, capped or not: the same seed then draws the same sequence.
    FaultPlan plan = draw();
    int &faults = m_faultsPerCall[requestId];
    if (plan.fault != Fault::None && !requestId.isEmpty() && faults >= m_limits.perCall)
        plan = FaultPlan();
    if (plan.fault == Fault::Silence) {
        if (m_silencesLeft == 0)
            plan = FaultPlan();
        else
            --m_silencesLeft;
    }
    if (plan.fault != Fault::None)
        ++faults;
    ++m_played[plan.fault];
    return plan;
}

FaultPlan FaultSchedule::draw()
{
    FaultPlan plan;
    if (m_burstLeft > 0) {
        --m_burstLeft;
        plan.fault = Fault::ServerError;
        plan.status = m_burstStatus;
        return plan;
    }
    if (m_random.generateDouble() >= m_limits.rate)
        return plan;
    static constexpr std::array kinds{Fault::ResetBeforeForwarding, Fault::ResetAfterForwarding, Fault::ServerError,
                                      Fault::TooManyRequests,       Fault::CutResponse,          Fault::Silence,
                                      Fault::SlowBody};
    plan.fault = kinds.at(m_random.bounded(int(kinds.size())));
    plan.bodyBytes = m_random.bounded(200);
    if (plan.fault == Fault::ServerError) {
        static constexpr std::array statuses{500, 502, 503, 504};
        m_burstStatus = statuses.at(m_random.bounded(int(statuses.size())));
        plan.status = m_burstStatus;
        // This one and up to three after it.
        m_burstLeft = m_random.bounded(4);
    }
    return plan;
}
