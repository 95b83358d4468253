using System.Collections.Immutable;

namespace VirtApi.Machine.Devices;

/// <summary>
/// The saved <see cref="Plic"/>: per source (index 0 to <see cref="Plic.SourceCount"/> − 1, source 0
/// unused) its priority, input level and gateway state; per context (2 per hart: M, then S) its
/// enable words and threshold. The output lines to the harts follow from these and are recomputed.
/// </summary>
public sealed record PlicState
{
    public required ImmutableArray<uint> Priority { get; init; }

    /// <summary>The level each source's line was last driven to.</summary>
    public required ImmutableArray<bool> Level { get; init; }

    /// <summary>Pending in the gateway: latched and not yet claimed.</summary>
    public required ImmutableArray<bool> Pending { get; init; }

    /// <summary>Claimed and not yet completed: the gateway holds further requests back.</summary>
    public required ImmutableArray<bool> Claimed { get; init; }

    /// <summary>Enable bits per context, <see cref="Plic.SourceCount"/> / 32 words each.</summary>
    public required ImmutableArray<ImmutableArray<uint>> Enable { get; init; }

    /// <summary>The priority threshold per context.</summary>
    public required ImmutableArray<uint> Threshold { get; init; }
}

/// <summary>What a restored <see cref="Plic"/> is given: the harts its contexts drive, already restored.</summary>
public sealed record PlicArgs(IReadOnlyList<IInterruptPins> Harts);
