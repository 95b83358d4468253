using VirtApi.Hypervisor.Vm;
using VirtApi.Machine.Board;
using VirtApi.Machine.Traps;

namespace VirtApi.Hypervisor.Statistics;

/// <summary>Copies the counters the board's harts and RAM counted into a <see cref="VmStatistics"/>.</summary>
public static class MachineStatistics
{
    public static VmStatistics Capture(VirtBoard board)
    {
        var byPrivilege = new ulong[4];
        var exceptions = new ulong[16];
        var interrupts = new ulong[16];
        ulong walks = 0, hits = 0, misses = 0, silent = 0;
        foreach (var hart in board.Harts)
        {
            var counters = hart.Counters;
            for (var i = 0; i < 16; i++)
            {
                exceptions[i] += counters.Exceptions[i];
                interrupts[i] += counters.Interrupts[i];
            }
            for (var level = 0; level < byPrivilege.Length; level++)
            {
                byPrivilege[level] += counters.RetiredByPrivilege[level];
            }
            walks += counters.PageWalks;
            hits += counters.TlbHits;
            misses += counters.TlbMisses;
            silent += counters.SilentFailures;
        }
        return new VmStatistics(
            board.InstructionsRetired,
            CounterNames.ByPrivilege(byPrivilege),
            CounterNames.ByName<ExceptionCause>(exceptions),
            CounterNames.ByName<InterruptCause>(interrupts),
            hits,
            misses,
            walks,
            board.Bus.Ram.FramesTouched,
            0,
            silent);
    }
}
