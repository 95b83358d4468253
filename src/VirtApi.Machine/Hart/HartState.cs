using System.Collections.Immutable;
using VirtApi.Machine.Bus;
using VirtApi.Machine.Traps;

namespace VirtApi.Machine.Hart;

/// <summary>
/// The saved <see cref="Hart"/> at an instruction boundary (any return from its board's
/// <c>Run</c>): what the architecture and the board's bookkeeping need to go on exactly as before.
/// Caches (TLB, fetch cache, decoded pages) and what follows from the rest (translation on or off,
/// an interrupt ready, the next timer check) are not here: a restored hart rebuilds them.
/// </summary>
public sealed record HartState
{
    /// <summary>x0..x31 (x0 is always zero).</summary>
    public required ImmutableArray<ulong> Registers { get; init; }

    public required ulong Pc { get; init; }

    public required PrivilegeLevel Privilege { get; init; }

    /// <summary>In <c>wfi</c>, waiting for an enabled interrupt.</summary>
    public required bool Waiting { get; init; }

    /// <summary><c>minstret</c>; also the hart's clock (virtual time advances with it).</summary>
    public required ulong InstructionsRetired { get; init; }

    /// <summary>The physical address an LR reserved and no store has broken since, or null.</summary>
    public required ulong? Reservation { get; init; }

    /// <summary>Traps taken since the last retired instruction (how a hart is found stuck).</summary>
    public required ulong TrapsWithoutProgress { get; init; }

    /// <summary>The x86-legacy profile's silent sstatus/mstatus access (<see cref="Hart.SilentStatusAccess"/>): part of the CPU model.</summary>
    public required bool SilentStatusAccess { get; init; }

    /// <summary>The cause (with the interrupt bit) of the last trap taken, as <see cref="Hart.LastTrap"/> reports it.</summary>
    public required ulong LastTrapCause { get; init; }

    public required ulong LastTrapValue { get; init; }

    public required ulong LastTrapPc { get; init; }

    public required CsrFileState Csrs { get; init; }

    public required HartCountersState Counters { get; init; }
}

/// <summary>
/// What a restored <see cref="Hart"/> is given rather than saved: its id, the bus it reaches memory and
/// devices through, and its board's time. The board's time must already be restored when the hart is,
/// since the hart recomputes its timer lines from it.
/// </summary>
public sealed record HartArgs(int Id, SystemBus Bus, IHartPlatform Platform);
