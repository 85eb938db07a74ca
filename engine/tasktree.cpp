// Recipes: the builders of Task, values that describe what to run.
#include "tasktree_p.h"

namespace Sandflow {

using namespace Qt::StringLiterals;

QString taskOutcomeName(TaskOutcome outcome)
{
    switch (outcome) {
    case TaskOutcome::Success: return u"success"_s;
    case TaskOutcome::Failure: return u"failure"_s;
    case TaskOutcome::Cancelled: return u"cancelled"_s;
    case TaskOutcome::Skipped: return u"skipped"_s;
    case TaskOutcome::TimedOut: break;
    }
    return u"timed_out"_s;
}

QString taskEventTypeName(TaskEvent::Type type)
{
    switch (type) {
    case TaskEvent::Type::Started: return u"started"_s;
    case TaskEvent::Type::Waiting: return u"waiting"_s;
    case TaskEvent::Type::Retrying: return u"retrying"_s;
    case TaskEvent::Type::Finished: break;
    }
    return u"finished"_s;
}

Task::Task(std::shared_ptr<Node> node) : m_node(std::move(node)) {}

static Task::Node makeNode(Task::Node::Kind kind, const QString &name)
{
    Task::Node node;
    node.kind = kind;
    node.name = name;
    return node;
}

Task Task::job(const QString &name, JobFactory factory)
{
    Node node = makeNode(Node::Kind::Job, name);
    node.factory = std::move(factory);
    return Task(std::make_shared<Node>(std::move(node)));
}

Task Task::sequence(const QString &name, QList<Task> children)
{
    Node node = makeNode(Node::Kind::Sequence, name);
    node.children = std::move(children);
    return Task(std::make_shared<Node>(std::move(node)));
}

Task Task::parallel(const QString &name, QList<Task> children)
{
    Node node = makeNode(Node::Kind::Parallel, name);
    node.children = std::move(children);
    return Task(std::make_shared<Node>(std::move(node)));
}

Task Task::parallelFor(const QString &name, qsizetype count, ChildFactory makeChild)
{
    Node node = makeNode(Node::Kind::ParallelFor, name);
    node.count = count;
    node.makeChild = std::move(makeChild);
    return Task(std::make_shared<Node>(std::move(node)));
}

Task Task::graph(const QString &name, QList<Task> children, QList<QList<int>> dependencies)
{
    Node node = makeNode(Node::Kind::Graph, name);
    node.children = std::move(children);
    node.dependencies = std::move(dependencies);
    return Task(std::make_shared<Node>(std::move(node)));
}

Task::Condition Task::success()
{
    return [](const ConditionState &state) { return !state.failed && !state.cancelled; };
}

Task::Condition Task::always()
{
    return [](const ConditionState &) { return true; };
}

Task::Condition Task::failure()
{
    return [](const ConditionState &state) { return state.failed && !state.cancelled; };
}

// Recipes are values: changing a copy must not change the original.
Task &Task::detach()
{
    if (m_node.use_count() > 1)
        m_node = std::make_shared<Node>(*m_node);
    return *this;
}

Task &Task::withLimit(int limit)
{
    detach().m_node->limit = limit;
    return *this;
}

Task &Task::withFailFast(bool failFast)
{
    detach().m_node->failFast = failFast;
    return *this;
}

Task &Task::withCondition(Condition condition)
{
    detach().m_node->condition = std::move(condition);
    return *this;
}

Task &Task::withTimeout(qint64 timeoutMs, qint64 graceMs)
{
    detach();
    m_node->timeoutMs = timeoutMs;
    m_node->graceMs = graceMs;
    return *this;
}

Task &Task::withAttemptTimeout(qint64 timeoutMs, qint64 graceMs)
{
    detach();
    m_node->attemptTimeoutMs = timeoutMs;
    m_node->attemptGraceMs = graceMs;
    return *this;
}

Task &Task::withRetry(const TaskRetry &retry)
{
    detach().m_node->retry = retry;
    return *this;
}

Task &Task::withContinueOnError(bool continueOnError)
{
    detach().m_node->continueOnError = continueOnError;
    return *this;
}

Task &Task::withPool(const QString &pool)
{
    detach().m_node->pool = pool;
    return *this;
}

// Hooks add up: whoever builds a recipe and whoever wraps it can each watch it.
Task &Task::onStarted(std::function<void()> hook)
{
    detach();
    if (auto earlier = m_node->onStarted) {
        m_node->onStarted = [earlier, hook] {
            earlier();
            hook();
        };
    } else {
        m_node->onStarted = std::move(hook);
    }
    return *this;
}

Task &Task::onFinished(std::function<void(const TaskResult &)> hook)
{
    detach();
    if (auto earlier = m_node->onFinished) {
        m_node->onFinished = [earlier, hook](const TaskResult &result) {
            earlier(result);
            hook(result);
        };
    } else {
        m_node->onFinished = std::move(hook);
    }
    return *this;
}

const QString &Task::name() const
{
    return m_node->name;
}

} // namespace Sandflow
