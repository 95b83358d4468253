using System.Collections.Immutable;

namespace VirtApi.Machine.Devices;

/// <summary>
/// The saved <see cref="Clint"/>: <c>msip</c> and <c>mtimecmp</c> per hart. <c>mtime</c> is not the
/// CLINT's: it is the board's virtual clock, saved with the board.
/// </summary>
public sealed record ClintState
{
    public required ImmutableArray<uint> Msip { get; init; }

    public required ImmutableArray<ulong> TimerCompare { get; init; }
}

/// <summary>What a restored <see cref="Clint"/> is given: the board that keeps time and owns the harts.</summary>
public sealed record ClintArgs(IClintPlatform Platform);
