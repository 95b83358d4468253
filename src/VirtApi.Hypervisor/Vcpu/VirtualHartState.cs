using System.Collections.Immutable;
using VirtApi.Machine.Hart;
using VirtApi.Machine.Traps;

namespace VirtApi.Hypervisor.Vcpu;

/// <summary>
/// The saved <see cref="VirtualHart"/>: what the guest believes about its hart that the real hart
/// does not hold. Its registers and pc are the real hart's, saved with the board.
/// </summary>
public sealed record VirtualHartState
{
    /// <summary>The guest's privilege level.</summary>
    public required PrivilegeLevel Privilege { get; init; }

    /// <summary>The guest's CSRs.</summary>
    public required CsrFileState Csrs { get; init; }

    /// <summary>The guest waits in <c>wfi</c>.</summary>
    public required bool Waiting { get; init; }

    /// <summary>Retired instructions by the guest's privilege level (index: 0 U, 1 S, 3 M).</summary>
    public required ImmutableArray<ulong> RetiredByPrivilege { get; init; }

    /// <summary>The real hart's instret up to which <see cref="RetiredByPrivilege"/> is accounted.</summary>
    public required ulong InstretAccounted { get; init; }
}
