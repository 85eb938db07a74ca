// Every page of a sandbox list, asked for one after another while the server says that more
// follow. That loop runs on what the server says, so it is bounded: a server that keeps
// saying "more" (a bug, or a proxy that drops the `page` parameter and answers page 1 each
// time) must not keep the client asking for ever.
#pragma once

#include "httpcall_p.h"

#include <QSet>

namespace Sandflow::Internal {

/// The most pages walked: 200,000 sandboxes at the largest page servers hand out (200).
inline constexpr int MaxSandboxListPages = 1000;

class SandboxListJob final : public ResultJob<QList<SandboxInfo>>
{
public:
    /// Lists from page 1 with `filter`'s states, metadata and page size.
    SandboxListJob(Transport &transport, SandboxFilter filter);

protected:
    void doStart() override;
    void doCancel() override;

private:
    void ask();
    void answered(const HttpResult &answer);
    /// What is wrong with `page`, the answer to the page asked for, as a walk of pages; the
    /// sandboxes it adds are taken meanwhile.
    std::optional<QString> take(const SandboxPage &page);
    /// Ends the walk: `answer` to the page asked for was not what the protocol says.
    void fail(const HttpResult &answer, const QString &problem);

    Transport &m_transport;
    SandboxFilter m_filter;
    HttpCall *m_step = nullptr;
    QSet<QString> m_seen;
};

} // namespace Sandflow::Internal
