namespace VirtApi.Machine.Hart;

/// <summary>Snapshots of a hart (STYLE.md habit 6): <see cref="Save"/> and <see cref="Restore"/>.</summary>
public sealed partial class Hart
{
    // Not saved, and why. Caches: _tlb, _fetchFrame/_fetchDecoded/_fetchPage, _decodedPages (rebuilt
    // as the hart runs). Derived: _paging, _interruptReady, _timerCheckAt (recomputed on restore).
    // Per instruction, dead at a boundary: _length, _rawInstruction, the x0 sink register, and
    // _completedByMonitor (a monitor completes instructions inside a trap, and the run loop takes the
    // count before it returns). _slowStep is a hint to the hot path: without it, the hot path finds the
    // same instruction again and leaves it to the general path. HaltRequested is the board's power
    // state, set again by the board.
    // Built on the ordinary constructor (ids, bus, an empty decoded-page cache registered with RAM),
    // then given the saved CSR file and counters: both are get-only properties, set once here.
    private Hart(HartArgs args, HartState state)
        : this(args.Id, args.Bus, args.Platform)
    {
        Csrs = CsrFile.Restore(new CsrFileArgs(args.Id), state.Csrs);
        Counters = HartCounters.Restore(state.Counters);
    }

    /// <summary>
    /// The hart's state, for a snapshot. Taken between two <c>Run</c> calls: inside one, the hot path
    /// holds counts it has not added yet.
    /// </summary>
    public HartState Save() => new()
    {
        Registers = [.. _x.AsSpan(0, 32)],
        Pc = Pc,
        Privilege = Privilege,
        Waiting = Waiting,
        InstructionsRetired = InstructionsRetired,
        Reservation = _reservation == NoReservation ? null : _reservation,
        TrapsWithoutProgress = _trapsWithoutProgress,
        SilentStatusAccess = SilentStatusAccess,
        LastTrapCause = LastTrap.Cause,
        LastTrapValue = LastTrap.Tval,
        LastTrapPc = LastTrap.Pc,
        Csrs = Csrs.Save(),
        Counters = Counters.Save(),
    };

    /// <summary>
    /// A hart continuing from <paramref name="state"/>. Its caches start empty (TLB invalid, no fetch
    /// page, nothing decoded) and are refilled as it runs; what derives from the saved state is
    /// recomputed from it: the timer lines and the instruction count of the next timer check (from
    /// the platform's time, so <paramref name="args"/>' platform must be restored first), whether
    /// translation is on and whether an interrupt is ready. Host bindings (<see cref="Monitor"/>,
    /// <see cref="Trace"/>) are the caller's to set again.
    /// </summary>
    public static Hart Restore(HartArgs args, HartState state)
    {
        StateArrays.Require(state.Registers, 32, nameof(state.Registers));
        var hart = new Hart(args, state);
        for (var i = 1; i < 32; i++)
        {
            hart._x[i] = state.Registers[i];
        }
        hart.Pc = state.Pc;
        hart.Privilege = state.Privilege;
        hart.Waiting = state.Waiting;
        hart.InstructionsRetired = state.InstructionsRetired;
        hart._reservation = state.Reservation ?? NoReservation;
        hart._trapsWithoutProgress = state.TrapsWithoutProgress;
        hart.SilentStatusAccess = state.SilentStatusAccess;
        hart.LastTrap = (state.LastTrapCause, state.LastTrapValue, state.LastTrapPc);
        // The saved MTIP/STIP are what the last timer check saw; the check recomputes them from time
        // and the compare values, exactly as the original's next check would (it was due no later than
        // now), and ends in UpdateInterruptReady, which drops the fetch cache and recomputes _paging,
        // _interruptReady and (with nothing enabled pending, as at any saved wfi) leaves Waiting as saved.
        hart.UpdateTimers();
        return hart;
    }
}
