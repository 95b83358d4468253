using System.Collections.Immutable;

namespace VirtApi.Machine.Hart;

/// <summary>
/// The saved <see cref="HartCounters"/>: the statistics a VM reports travel with its snapshot, so a
/// restored hart goes on counting from where the original stopped. The translation counters
/// (<see cref="PageWalks"/>, <see cref="TlbHits"/>, <see cref="TlbMisses"/>) count cache behaviour:
/// the TLB is rebuilt, not saved, so a restored hart's first translations miss where the original's hit.
/// </summary>
public sealed record HartCountersState
{
    /// <summary>Retired instructions by privilege level (index: 0 U, 1 S, 3 M).</summary>
    public required ImmutableArray<ulong> RetiredByPrivilege { get; init; }

    /// <summary>Exceptions taken, by cause.</summary>
    public required ImmutableArray<ulong> Exceptions { get; init; }

    /// <summary>Interrupts taken, by cause.</summary>
    public required ImmutableArray<ulong> Interrupts { get; init; }

    public required ulong PageWalks { get; init; }

    public required ulong TlbHits { get; init; }

    public required ulong TlbMisses { get; init; }

    public required ulong SilentFailures { get; init; }
}
