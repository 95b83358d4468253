using System.Collections.Immutable;

namespace VirtApi.Hypervisor.Memory;

/// <summary>
/// The saved <see cref="P2mMap"/>: every guest frame that has a machine frame, and the pool that hands
/// them out. Restoring the same map keeps machine addresses where they were (HTIF's <c>tohost</c>,
/// saved with the board, is a machine address), and the guest cannot tell either way.
/// </summary>
public sealed record P2mMapState
{
    /// <summary>Guest frame → machine frame, in guest-frame order.</summary>
    public required ImmutableArray<P2mEntry> Entries { get; init; }

    /// <summary>Machine frames allocated for the guest since boot.</summary>
    public required ulong FramesAllocated { get; init; }

    /// <summary>The pool the guest's frames come from.</summary>
    public required MachineFramePoolState Pool { get; init; }
}

/// <summary>One P2M entry: guest-physical frame number → machine frame number.</summary>
public readonly record struct P2mEntry(ulong GuestFrame, ulong MachineFrame);

/// <summary>The saved <see cref="MachineFramePool"/>: how far it has handed out frames, and the frames given back.</summary>
public sealed record MachineFramePoolState
{
    /// <summary>Frames taken from the top of the run so far.</summary>
    public required ulong Taken { get; init; }

    /// <summary>Frames given back, by machine address, in the order they will be handed out again (last first); the frames in use are the others taken.</summary>
    public required ImmutableArray<ulong> Free { get; init; }
}

/// <summary>What a restored <see cref="P2mMap"/> is given: where guest RAM is and the pool over machine memory.</summary>
public sealed record P2mMapArgs(ulong GuestBase, ulong GuestBytes, MachineFramePool Pool);
