// The `resourceLimits` values of a create request, read as the lifecycle server's Docker
// runtime reads them. That server ignores a value it cannot read (it only logs it), which
// leaves the sandbox without that limit; callers here turn such values into warnings.
#pragma once

#include <QString>

#include <optional>

namespace Sandflow::Internal {

/// `cpu`: `<n>m` millicores ("500m" is half a core) or a number of cores ("1", "0.5"), as
/// cores. std::nullopt when it is neither, or not above zero.
std::optional<double> parseCpuLimit(const QString &text);

/// `memory`: digits and an optional unit, case-insensitive, spaces around allowed. `Ki`,
/// `Mi`, `Gi`, `Ti` are powers of 1024; `k`, `m`, `g`, `t` and `kb`, `mb`, `gb`, `tb` powers
/// of 1000; `b` or no unit are bytes. So "1.5Gi" is not a size. std::nullopt for anything
/// else, for 0 (which Docker reads as "no limit") and for sizes that do not fit 64 bits.
std::optional<qint64> parseMemoryLimit(const QString &text);

} // namespace Sandflow::Internal
