using System.Collections.Immutable;

namespace VirtApi.Hypervisor.Statistics;

/// <summary>
/// The saved <see cref="VmmCounters"/>: a restored VM goes on counting from where it was saved. Host
/// seconds in the VMM are not here: they measure this server's work, not the VM's.
/// </summary>
public sealed record VmmCountersState
{
    public required ulong Traps { get; init; }

    public required ImmutableArray<ulong> TrapsByClass { get; init; }

    public required ImmutableArray<ulong> ReflectedExceptions { get; init; }

    public required ImmutableArray<ulong> ReflectedInterrupts { get; init; }

    public required ulong ReflectedTraps { get; init; }

    public required ulong EmulatedInstructions { get; init; }

    public required ulong HiddenFaults { get; init; }

    public required ulong GuestPageFaults { get; init; }

    public required ulong ShadowFlushes { get; init; }

    public required ulong ShadowInvalidations { get; init; }

    public required ulong GuestPageWalks { get; init; }

    public required ulong GuestWalkReferences { get; init; }

    public required ulong VmmCycles { get; init; }

    /// <summary>Split back-end work charged to the service VM; absent (0) in states saved before devices had back ends.</summary>
    public ulong ServiceVmCycles { get; init; }

    /// <summary>Stores logged by a migration's log-dirty mode; absent (0) in states saved before migration existed.</summary>
    public ulong DirtyLogFaults { get; init; }

    /// <summary>Exits and bytes per device name.</summary>
    public required ImmutableSortedDictionary<string, DeviceCountersState> Devices { get; init; }
}

/// <summary>One device's saved counters.</summary>
public sealed record DeviceCountersState(ulong Exits, ulong Bytes, ulong BackEndCycles = 0);
