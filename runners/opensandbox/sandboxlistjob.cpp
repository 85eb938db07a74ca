#include "sandboxlistjob_p.h"

#include "httperror_p.h"
#include "wirejson_p.h"

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

SandboxListJob::SandboxListJob(Transport &transport, SandboxFilter filter)
    : m_transport(transport)
    , m_filter(std::move(filter))
{
}

void SandboxListJob::doStart()
{
    m_filter.page = 1;
    ask();
}

void SandboxListJob::doCancel()
{
    if (m_step)
        m_step->abort();
    finish(cancelledError());
}

void SandboxListJob::ask()
{
    nextStep(m_step, m_transport, m_transport.lifecycle("GET", u"/sandboxes"_s, listSandboxesQuery(m_filter)), this)
        ->start([this](const HttpResult &answer) { answered(answer); });
}

void SandboxListJob::answered(const HttpResult &answer)
{
    if (answer.error)
        return finish(answer.error);
    QString problem;
    std::optional<SandboxPage> page;
    if (const std::optional<QJsonObject> object = jsonObjectBody(answer.body, &problem))
        page = sandboxPageFromJson(*object, &problem);
    if (!page)
        return fail(answer, problem);
    if (const std::optional<QString> wrong = take(*page))
        return fail(answer, *wrong);
    if (!page->hasNextPage || page->items.isEmpty())
        return finish();
    ++m_filter.page;
    ask();
}

void SandboxListJob::fail(const HttpResult &answer, const QString &problem)
{
    JobError error = unexpectedResponse(m_step->spec(), answer.requestId, answer.status, problem);
    error.context.insert(u"page"_s, m_filter.page);
    error.context.insert(u"sandboxesListed"_s, m_result.size());
    finish(std::move(error));
}

std::optional<QString> SandboxListJob::take(const SandboxPage &page)
{
    // A server that ignores `page` answers the first one again and again.
    if (page.page != m_filter.page)
        return u"asked for page %1 of the sandbox list, it answered page %2"_s.arg(m_filter.page).arg(page.page);
    // Sandboxes made while the pages are read push older ones onto the next page, which
    // then repeats a few: those are dropped. A page of nothing new is not progress.
    qsizetype added = 0;
    for (const SandboxInfo &sandbox : page.items) {
        if (m_seen.contains(sandbox.id))
            continue;
        m_seen.insert(sandbox.id);
        m_result.append(sandbox);
        ++added;
    }
    if (!page.hasNextPage)
        return std::nullopt;
    if (added == 0 && !page.items.isEmpty())
        return u"page %1 of the sandbox list holds only sandboxes of earlier pages (%2 first), yet says more follow"_s
            .arg(m_filter.page)
            .arg(page.items.first().id);
    if (m_filter.page >= MaxSandboxListPages)
        return u"page %1 of the sandbox list still says more follow; no more than %1 pages are read"_s.arg(
            MaxSandboxListPages);
    return std::nullopt;
}

} // namespace Sandflow::Internal
