// Container image references as Docker and OpenSandbox clients write them, and the other
// sources of an image the local runner takes: `debian:12` is Docker Hub's
// `docker.io/library/debian:12`; `127.0.0.1:5000/team/tool@sha256:...` names a registry, a
// repository and a digest; `docker-archive:PATH` is `docker save` output and
// `oci-layout:PATH[:TAG]` an OCI image layout directory.
#pragma once

#include <QString>

#include <optional>

namespace Sandflow {

struct ImageReference
{
    enum class Source {
        Registry,        ///< pulled with the OCI distribution API
        DockerArchive,   ///< a `docker save` tar file at `path`
        OciLayout,       ///< an OCI image layout directory at `path`
    };
    Source source = Source::Registry;

    /// The registry's host, with its port when one is given ("docker.io", "127.0.0.1:5000").
    QString registry;
    /// The repository within it, with Docker Hub's implicit `library/` ("library/debian").
    QString repository;
    /// The tag; "latest" when the reference names neither a tag nor a digest. With a digest,
    /// only what the reference says (the digest decides).
    QString tag;
    /// "sha256:<64 hex>" when the reference pins one.
    QString digest;
    /// The archive or layout of a non-registry source (absolute or as written).
    QString path;

    /// The reference in full, normalized: "docker.io/library/debian:12",
    /// "127.0.0.1:5000/tool@sha256:...", "oci-layout:/images/x:v1".
    QString canonical() const;
    /// The host the distribution API is reached at: Docker Hub's API lives on
    /// registry-1.docker.io, every other registry on its own name.
    QString apiHost() const;
    /// True for registries Docker itself reaches over plain HTTP: loopback addresses and
    /// `localhost`, with any port.
    bool isLoopbackRegistry() const;

    /// Parses `text`; std::nullopt with `error` saying what is wrong and where in it.
    static std::optional<ImageReference> parse(const QString &text, QString *error);
};

} // namespace Sandflow
