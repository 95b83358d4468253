using System.Collections.Immutable;

namespace VirtApi.Machine.Hart;

/// <summary>
/// What one hart counted while it ran, each at the place the work happens: retirement, trap entry,
/// interrupt entry. Plain fields: the hart increments them on its own thread.
/// </summary>
public sealed class HartCounters
{
    /// <summary>Retired instructions by the privilege level they ran at (index: 0 U, 1 S, 3 M).</summary>
    public ulong[] RetiredByPrivilege { get; } = new ulong[4];

    /// <summary>Exceptions taken, by cause (index = mcause code).</summary>
    public ulong[] Exceptions { get; } = new ulong[16];

    /// <summary>Interrupts taken, by cause (index = mcause code without the interrupt bit).</summary>
    public ulong[] Interrupts { get; } = new ulong[16];

    /// <summary>Sv39 page-table walks (none while satp is Bare).</summary>
    public ulong PageWalks { get; set; }

    public ulong TlbHits { get; set; }

    /// <summary>Deprivileged sstatus/mstatus accesses that completed without trapping (the x86-legacy profile).</summary>
    public ulong SilentFailures { get; set; }

    public ulong TlbMisses { get; set; }

    /// <summary>The counts so far, for a snapshot.</summary>
    public HartCountersState Save() => new()
    {
        RetiredByPrivilege = [.. RetiredByPrivilege],
        Exceptions = [.. Exceptions],
        Interrupts = [.. Interrupts],
        PageWalks = PageWalks,
        TlbHits = TlbHits,
        TlbMisses = TlbMisses,
        SilentFailures = SilentFailures,
    };

    /// <summary>Counters that go on from <paramref name="state"/>; nothing else is needed (no host bindings).</summary>
    public static HartCounters Restore(HartCountersState state)
    {
        var counters = new HartCounters
        {
            PageWalks = state.PageWalks,
            TlbHits = state.TlbHits,
            TlbMisses = state.TlbMisses,
            SilentFailures = state.SilentFailures,
        };
        StateArrays.CopyInto(state.RetiredByPrivilege, counters.RetiredByPrivilege, nameof(state.RetiredByPrivilege));
        StateArrays.CopyInto(state.Exceptions, counters.Exceptions, nameof(state.Exceptions));
        StateArrays.CopyInto(state.Interrupts, counters.Interrupts, nameof(state.Interrupts));
        return counters;
    }
}
