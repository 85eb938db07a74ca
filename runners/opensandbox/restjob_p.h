// A job that is one REST call: send, then turn the answer into the job's result.
#pragma once

#include "httpcall_p.h"
#include "httperror_p.h"

#include <QJsonArray>
#include <QJsonObject>

#include <type_traits>
#include <variant>

namespace Sandflow::Internal {

/// The result of a job that has none beyond success.
using Nothing = std::monostate;

template <typename T>
class RestJob final : public ResultJob<T>
{
public:
    /// Reads a 2xx answer (its body, and headers where the route puts something there) into
    /// `result`; returns the problem when it cannot.
    using Reader = std::function<std::optional<QString>(const HttpResult &answer, T &result)>;

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
                if (const std::optional<QString> problem = m_reader(answer, this->m_result))
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

/// A Reader for a JSON answer read by `fromJson` (one of wirejson_p.h or execdbodies_p.h),
/// which takes the body as `Json`: a QJsonObject or, for the routes that answer a list, a
/// QJsonArray.
template <typename Json = QJsonObject, typename FromJson>
auto jsonReader(FromJson fromJson)
{
    using T = typename std::invoke_result_t<FromJson, const Json &, QString *>::value_type;
    return typename RestJob<T>::Reader([fromJson](const HttpResult &answer, T &result) -> std::optional<QString> {
        QString problem;
        std::optional<Json> json;
        if constexpr (std::is_same_v<Json, QJsonArray>)
            json = jsonArrayBody(answer.body, &problem);
        else
            json = jsonObjectBody(answer.body, &problem);
        if (!json)
            return problem;
        std::optional<T> value = fromJson(*json, &problem);
        if (!value)
            return problem;
        result = std::move(*value);
        return std::nullopt;
    });
}

} // namespace Sandflow::Internal
