// The `sandflow` command line.
#include "command.h"

#include <QCoreApplication>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("sandflow"));
    QCoreApplication::setApplicationVersion(QStringLiteral(SANDFLOW_VERSION));
    return Sandflow::Cli::runCli(QCoreApplication::arguments().mid(1));
}
