// OpenSandboxClient's bash sessions and code contexts: execd's /session and /code routes.
#include "opensandboxclient.h"

#include "codestreamjob_p.h"
#include "execdbodies_p.h"
#include "restjob_p.h"
#include "wirejson_p.h"

namespace Sandflow {

using namespace Qt::StringLiterals;
using namespace Internal;

ResultJob<QString> *OpenSandboxClient::createSession(const OpenSandboxEndpoint &execd, const QString &cwd)
{
    return new RestJob<QString>(*m_transport,
                                withJsonBody(m_transport->execd(execd, "POST", u"/session"_s), QJsonDocument(sessionJson(cwd))),
                                jsonReader(&sessionIdFromJson));
}

CommandJob *OpenSandboxClient::runInSession(const OpenSandboxEndpoint &execd, const QString &sessionId,
                                            const CommandRequest &request)
{
    EventStreamRoute route;
    route.request = eventStreamRequest(*m_transport, execd, u"/session/%1/run"_s.arg(pathSegment(sessionId)),
                                       sessionRunJson(request));
    // The run's init event names the session, and execd's interrupt closes a session by id.
    route.interruptPath = u"/command"_s;
    route.timeoutMs = request.timeoutMs;
    return new CommandStreamJob<CommandJob>(*m_transport, execd, std::move(route));
}

AsyncJob *OpenSandboxClient::deleteSession(const OpenSandboxEndpoint &execd, const QString &sessionId)
{
    return new RestJob<Nothing>(*m_transport, m_transport->execd(execd, "DELETE", u"/session/"_s + pathSegment(sessionId)));
}

ResultJob<OpenSandboxCodeContext> *OpenSandboxClient::createCodeContext(const OpenSandboxEndpoint &execd,
                                                                        const QString &language, const QString &cwd)
{
    return new RestJob<OpenSandboxCodeContext>(
        *m_transport,
        withJsonBody(m_transport->execd(execd, "POST", u"/code/context"_s), QJsonDocument(codeContextJson(language, cwd))),
        jsonReader(&codeContextFromJson));
}

ResultJob<QList<OpenSandboxCodeContext>> *OpenSandboxClient::listCodeContexts(const OpenSandboxEndpoint &execd,
                                                                              const QString &language)
{
    QueryItems query;
    if (!language.isEmpty())
        query.append({u"language"_s, language});
    return new RestJob<QList<OpenSandboxCodeContext>>(*m_transport,
                                                      m_transport->execd(execd, "GET", u"/code/contexts"_s, query),
                                                      jsonReader<QJsonArray>(&codeContextsFromJson));
}

AsyncJob *OpenSandboxClient::deleteCodeContext(const OpenSandboxEndpoint &execd, const QString &contextId)
{
    return new RestJob<Nothing>(*m_transport,
                                m_transport->execd(execd, "DELETE", u"/code/contexts/"_s + pathSegment(contextId)));
}

CodeJob *OpenSandboxClient::runCode(const OpenSandboxEndpoint &execd, const OpenSandboxCodeContext &context,
                                   const QString &code)
{
    return new CodeStreamJob(*m_transport, execd, context, code);
}

AsyncJob *OpenSandboxClient::interruptCode(const OpenSandboxEndpoint &execd, const QString &contextId)
{
    return new RestJob<Nothing>(*m_transport, m_transport->execd(execd, "DELETE", u"/code"_s, {{u"id"_s, contextId}}));
}

} // namespace Sandflow
