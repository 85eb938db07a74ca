// Feeds arbitrary bytes to the workflow loader, then plans what loads. The loader must
// report problems as diagnostics: never crash, hang, leak or throw.
#include "plan.h"
#include "workflowloader.h"

#include <QByteArray>
#include <QString>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const Sandflow::StepTypeRegistry stepTypes;
    const Sandflow::WorkflowLoader loader(stepTypes);
    // The base directory does not exist, so relative dataset and volume paths find nothing.
    const Sandflow::LoadResult result = loader.loadData(
        QByteArray(reinterpret_cast<const char *>(data), qsizetype(size)),
        QStringLiteral("fuzz.yaml"), QStringLiteral("/nonexistent/sandflow-fuzz"));
    for (const Sandflow::Diagnostic &diagnostic : result.diagnostics.items())
        (void)diagnostic.toString();
    if (result.ok()) {
        const Sandflow::Plan plan = Sandflow::Plan::build(*result.workflow);
        (void)plan.toJson();
    }
    return 0;
}
