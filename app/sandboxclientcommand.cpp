// `sandflow sandbox`: a terminal client of any OpenSandbox server (a `sandflow serve`, or
// one with Docker or Kubernetes sandboxes). Each subcommand is one or two protocol calls.
#include "sandboxclient.h"

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;

namespace {

QCommandLineOption envOption(const QString &description)
{
    return QCommandLineOption(u"env"_s, description, u"K=V"_s);
}

QCommandLineOption metadataOption(const QString &description)
{
    return QCommandLineOption(u"metadata"_s, description, u"K=V"_s);
}

// The statuses every subcommand but exec ends with: `done` on success, `failed` otherwise.
QList<ExitStatus> clientStatuses(const QString &done, const QString &failed)
{
    return {exitStatus(ExitSuccess, done), exitStatus(ExitFailure, failed),
            exitStatus(ExitUsage, u"A wrong option or argument; nothing was asked of the server"_s),
            exitStatus(ExitInterrupted, u"Interrupted by Ctrl-C"_s)};
}

Command createCommand()
{
    return {u"create"_s,
            QString(),
            u"Create a sandbox and print its id"_s,
            u"Creates a sandbox, waits until it can run commands, and prints its id alone on stdout,\n"
            u"so that scripts can write ID=$(sandflow sandbox create). Like the OpenSandbox SDKs, it asks\n"
            u"for 1 CPU and 2Gi of memory, runs `tail -f /dev/null` as the sandbox's main process, and\n"
            u"lets the sandbox expire after 10 minutes unless --timeout says otherwise. A sandbox that\n"
            u"does not become ready within 30 seconds is deleted again."_s,
            {QCommandLineOption(u"image"_s, u"The image to run (default: ubuntu)"_s, u"IMAGE"_s, u"ubuntu"_s),
             QCommandLineOption(u"timeout"_s, u"How long until the sandbox expires, at least 60s: 10m, 2h, "
                                              u"seconds (600), or `none` (default: 10m)"_s,
                                u"DURATION"_s),
             envOption(u"An environment variable of the sandbox (repeatable)"_s),
             metadataOption(u"A label to find the sandbox by (repeatable)"_s),
             QCommandLineOption(u"cpu"_s, u"CPU limit, in cores or millicores: 2, 500m (default: 1)"_s, u"N"_s),
             QCommandLineOption(u"memory"_s, u"Memory limit: 512Mi, 4Gi (default: 2Gi)"_s, u"SIZE"_s)},
            0,
            0,
            sandboxCreate,
            clientStatuses(u"The sandbox runs; its id is printed"_s,
                           u"The server refused or failed, or the sandbox did not become ready"_s)};
}

Command listCommand()
{
    return {u"ls"_s,
            QString(),
            u"List the server's sandboxes"_s,
            u"Lists the sandboxes on the server, newest first: id, state, image, when each was created and\n"
            u"expires, and its metadata. --state and --metadata narrow the list: a sandbox is shown when its\n"
            u"state is one of the given ones and it carries every given label."_s,
            {QCommandLineOption(u"state"_s, u"Only sandboxes in this state, e.g. Running (repeatable)"_s, u"S"_s),
             metadataOption(u"Only sandboxes with this label (repeatable)"_s),
             QCommandLineOption(u"json"_s, u"Print the list as JSON"_s), limitOption()},
            0,
            0,
            sandboxList,
            clientStatuses(u"The list was shown"_s, u"The server refused or failed"_s)};
}

Command execCommand()
{
    return {u"exec"_s,
            u"ID [-- COMMAND...]"_s,
            u"Run a command in a sandbox"_s,
            u"Runs COMMAND in sandbox ID and streams its stdout and stderr here as they come, line by line.\n"
            u"One word after `--` is a shell command line ('echo a; exit 3'); several words are a program\n"
            u"and its arguments. Ctrl-C interrupts the command in the sandbox (SIGTERM, then SIGKILL after\n"
            u"3 seconds); a second Ctrl-C stops waiting for it.\n"
            u"With -t the command gets a terminal the size of this window (resized with it; without a\n"
            u"COMMAND, the sandbox user's shell), and every key goes to it, Ctrl-C too. With -i, stdin goes\n"
            u"to the command until its end, a terminal or piped input alike."_s,
            {QCommandLineOption({u"t"_s, u"tty"_s}, u"Give the command a terminal; stdin must be one"_s),
             QCommandLineOption({u"i"_s, u"interactive"_s}, u"Forward stdin to the command, e.g. piped input"_s),
             envOption(u"An environment variable for the command (repeatable)"_s),
             QCommandLineOption(u"cwd"_s, u"The directory to run in (default: the sandbox's)"_s, u"DIR"_s),
             QCommandLineOption(u"timeout"_s, u"Kill the command after this long: 30s, 5m, or seconds (30)"_s,
                                u"DURATION"_s)},
            1,
            -1,
            sandboxExec,
            {{u"N"_s, u"The command's own exit status"_s},
             exitStatus(ExitFailure, u"The command has none: it could not start, was killed, or the server failed"_s),
             exitStatus(ExitUsage, u"A wrong option or argument; nothing was run"_s),
             exitStatus(ExitInterrupted, u"Interrupted by Ctrl-C"_s)}};
}

Command copyCommand()
{
    return {u"cp"_s,
            u"SRC DEST"_s,
            u"Copy files or directories into or out of a sandbox"_s,
            u"Copies a file, or with -r a directory and everything in it, between this machine and a\n"
            u"sandbox. The sandbox side is ID:PATH, the other a local path; a relative PATH is relative to\n"
            u"the sandbox's working directory. A file DEST that is a directory (or, in a sandbox, ends with /)\n"
            u"gets the file under its own name; a directory goes to DEST when DEST does not exist, else into\n"
            u"DEST under its own name. Missing directories in the sandbox are made, and permission bits are\n"
            u"kept. Symbolic links in a directory are not copied: the copy stops before it starts. Files are\n"
            u"streamed, never held in memory; a new file or directory appears only once all of it is there."_s,
            {QCommandLineOption({u"r"_s, u"recursive"_s}, u"Copy directories and everything in them"_s)},
            2,
            2,
            sandboxCopy,
            clientStatuses(u"Everything was copied"_s,
                           u"It was not, or not all of it: no file is left half-written, no new directory half-made"_s)};
}

Command removeCommand()
{
    return {u"rm"_s,
            u"ID..."_s,
            u"Delete sandboxes"_s,
            u"Deletes each sandbox and everything running in it, and reports each. An ID may be the start of\n"
            u"one, as long as it names only one sandbox."_s,
            {},
            1,
            -1,
            sandboxRemove,
            clientStatuses(u"Every sandbox was deleted"_s, u"At least one could not be deleted"_s)};
}

Command pauseCommand()
{
    return {u"pause"_s,
            u"ID..."_s,
            u"Pause sandboxes"_s,
            u"Pauses each sandbox: its processes stop where they are, and keep their memory, until it is\n"
            u"resumed. An ID may be the start of one, as long as it names only one sandbox."_s,
            {},
            1,
            -1,
            sandboxPause,
            clientStatuses(u"Every sandbox was paused"_s, u"At least one could not be paused"_s)};
}

Command resumeCommand()
{
    return {u"resume"_s,
            u"ID..."_s,
            u"Resume paused sandboxes"_s,
            u"Resumes each paused sandbox where its processes stopped."_s,
            {},
            1,
            -1,
            sandboxResume,
            clientStatuses(u"Every sandbox was resumed"_s, u"At least one could not be resumed"_s)};
}

Command inspectCommand()
{
    return {u"inspect"_s,
            u"ID"_s,
            u"Show a sandbox as JSON"_s,
            u"Prints what the server knows of one sandbox as JSON: its id, state, image, entrypoint,\n"
            u"metadata, when it was created and when it expires."_s,
            {},
            1,
            1,
            sandboxInspect,
            clientStatuses(u"The sandbox was shown"_s, u"The server failed, or no one sandbox has that id"_s)};
}

} // namespace

CommandGroup sandboxGroup()
{
    return {u"sandbox"_s,
            u"Use the sandboxes of an OpenSandbox server"_s,
            u"Creates, lists and deletes sandboxes on an OpenSandbox server, runs commands in them and copies\n"
            u"files in and out. The server is a `sandflow serve`, or any other OpenSandbox server with\n"
            u"Docker or Kubernetes sandboxes."_s,
            {QCommandLineOption(u"server"_s, u"The server: HOST:PORT or a URL (default: $OPEN_SANDBOX_DOMAIN, else localhost:8080)"_s,
                                u"URL"_s),
             QCommandLineOption(u"api-key"_s, u"The server's API key (default: $OPEN_SANDBOX_API_KEY)"_s, u"KEY"_s)},
            {createCommand(), listCommand(), execCommand(), copyCommand(), removeCommand(), pauseCommand(),
             resumeCommand(), inspectCommand()}};
}

} // namespace Sandflow::Cli
