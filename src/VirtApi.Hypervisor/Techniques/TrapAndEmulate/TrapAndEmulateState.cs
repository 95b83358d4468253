using System.Collections.Immutable;
using VirtApi.Hypervisor.Memory;
using VirtApi.Hypervisor.Statistics;
using VirtApi.Hypervisor.Vcpu;

namespace VirtApi.Hypervisor.Techniques.TrapAndEmulate;

/// <summary>
/// The saved <see cref="TrapAndEmulateVmm"/> (DESIGN.md "Snapshots"): the virtual harts with their CSR
/// files, the P2M and the counters. The shadow tables and the hart's TLB are caches and are rebuilt.
/// </summary>
public sealed record TrapAndEmulateState
{
    /// <summary>The virtual harts, by hart id.</summary>
    public required ImmutableArray<VirtualHartState> VirtualHarts { get; init; }

    public required P2mMapState P2m { get; init; }

    public required VmmCountersState Counters { get; init; }
}
