namespace VirtApi.Hypervisor.Vm;

/// <summary>
/// A VM's counters at one moment. Each is counted where the mechanism does the work (the hart's
/// retire and trap-entry paths, the TLB, the RAM's frame allocator) and copied here; none is
/// derived from another. Counters never reset on read: clients diff two reads.
/// </summary>
/// <param name="InstructionsRetired">Instructions retired by all harts.</param>
/// <param name="InstructionsByPrivilege">Retired instructions by the privilege level they ran at (machine, supervisor, user).</param>
/// <param name="TrapsByCause">The guest's own exceptions, by cause name, counted at trap entry.</param>
/// <param name="InterruptsByCause">Interrupts taken, by cause name, counted at trap entry.</param>
/// <param name="TlbHits">Software TLB hits.</param>
/// <param name="TlbMisses">Software TLB misses.</param>
/// <param name="PageWalks">Page-table walks performed.</param>
/// <param name="FramesTouched">Guest RAM frames (4 KiB) allocated because the guest wrote them.</param>
/// <param name="HostSecondsRunning">Host time spent running the guest.</param>
public sealed record VmStatistics(
    ulong InstructionsRetired,
    IReadOnlyDictionary<string, ulong> InstructionsByPrivilege,
    IReadOnlyDictionary<string, ulong> TrapsByCause,
    IReadOnlyDictionary<string, ulong> InterruptsByCause,
    ulong TlbHits,
    ulong TlbMisses,
    ulong PageWalks,
    ulong FramesTouched,
    double HostSecondsRunning)
{
    /// <summary>Before the first boot: every counter zero.</summary>
    public static VmStatistics Empty { get; } = new(0, new Dictionary<string, ulong>(), new Dictionary<string, ulong>(), new Dictionary<string, ulong>(), 0, 0, 0, 0, 0);
}
