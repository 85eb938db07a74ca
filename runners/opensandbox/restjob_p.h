// A job that is one REST call: send, then turn the answer into the job's result.
#pragma once

#include "httpcall_p.h"
#include "httperror_p.h"

#include <QJsonObject>

#include <variant>

namespace Sandflow::Internal {

/// The result of a job that has none beyond success.
using Nothing = std::monostate;

template <typename T>
class RestJob final : public ResultJob<T>
{
public:
    /// Reads a 2xx answer's body into `result`; returns the problem when it cannot.
    using Reader = std::function<std::optional<QString>(const QByteArray &body, T &result)>;

    RestJob(Transport &transport, RequestSpec spec, Reader reader = {})
        : m_call(new HttpCall(transport, std::move(spec), this))
        , m_reader(std::move(reader))
    {
    }

protected:
    void doStart() override
    {
        m_call->start([this](const HttpResult &answer) {
            if (answer.error)
                return this->finish(answer.error);
            if (m_reader) {
                if (const std::optional<QString> problem = m_reader(answer.body, this->m_result))
                    return this->finish(unexpectedResponse(m_call->spec(), answer.requestId, answer.status, *problem));
            }
            this->finish();
        });
    }

    void doCancel() override
    {
        m_call->abort();
        this->finish(AsyncJob::cancelledError());
    }

private:
    HttpCall *m_call;
    Reader m_reader;
};

/// A Reader for a JSON object answer read by `fromJson` (one of wirejson_p.h).
template <typename T>
typename RestJob<T>::Reader jsonReader(std::optional<T> (*fromJson)(const QJsonObject &, QString *))
{
    return [fromJson](const QByteArray &body, T &result) -> std::optional<QString> {
        QString problem;
        const std::optional<QJsonObject> object = jsonObjectBody(body, &problem);
        if (!object)
            return problem;
        std::optional<T> value = fromJson(*object, &problem);
        if (!value)
            return problem;
        result = std::move(*value);
        return std::nullopt;
    };
}

} // namespace Sandflow::Internal
