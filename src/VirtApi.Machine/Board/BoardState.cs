using System.Collections.Immutable;
using VirtApi.Machine.Devices;
using VirtApi.Machine.Hart;

namespace VirtApi.Machine.Board;

/// <summary>
/// The saved <see cref="VirtBoard"/> between two <see cref="VirtBoard.Run"/> calls: each stateful
/// component's state under its name (the harts by id), and the board's own scheduling, clock and
/// power state. RAM is not here: a snapshot saves it frame by frame (<see cref="Memory.SparseRam.TouchedFrames"/>)
/// so that frames can be stored by content and a diff can hold only the dirty ones. The
/// <see cref="MachineConfig"/> is not here either: it is the VM's definition, given again on restore.
/// </summary>
public sealed record BoardState
{
    /// <summary>The harts, by id.</summary>
    public required ImmutableArray<HartState> Harts { get; init; }

    public required ClintState Clint { get; init; }

    public required PlicState Plic { get; init; }

    public required UartState Uart { get; init; }

    /// <summary>The hart whose turn it is in the round-robin.</summary>
    public required int CurrentHart { get; init; }

    /// <summary>Each hart's <c>minstret</c> when the current round started: its clock within the round.</summary>
    public required ImmutableArray<ulong> RoundStartInstret { get; init; }

    /// <summary>Instructions each hart has retired in its turn of the current round.</summary>
    public required ImmutableArray<ulong> RetiredInTurn { get; init; }

    /// <summary>Virtual time (mtime) at the start of the current round.</summary>
    public required ulong BaseTicks { get; init; }

    /// <summary>The (machine) address of HTIF's <c>tohost</c>, or 0 without HTIF.</summary>
    public required ulong Tohost { get; init; }

    /// <summary>The (machine) address of HTIF's <c>fromhost</c>, or 0.</summary>
    public required ulong Fromhost { get; init; }

    public required bool PoweredOff { get; init; }

    public required int ExitCode { get; init; }

    /// <summary>The guest asked for a reset, which the host has not acted on.</summary>
    public required bool ResetRequested { get; init; }

    public required ulong InstructionsRetired { get; init; }

    /// <summary>The entry point the boot ROM jumps to, or null before firmware was installed (no boot ROM).</summary>
    public required ulong? BootRomEntry { get; init; }
}
