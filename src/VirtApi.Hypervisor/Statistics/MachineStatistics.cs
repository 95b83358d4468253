using VirtApi.Hypervisor.Vm;
using VirtApi.Machine.Board;
using VirtApi.Machine.Traps;

namespace VirtApi.Hypervisor.Statistics;

/// <summary>Copies the counters the board's harts and RAM counted into a <see cref="VmStatistics"/>.</summary>
public static class MachineStatistics
{
    public static VmStatistics Capture(VirtBoard board)
    {
        var byPrivilege = new Dictionary<string, ulong>();
        var traps = new Dictionary<string, ulong>();
        var interrupts = new Dictionary<string, ulong>();
        ulong walks = 0, hits = 0, misses = 0;
        foreach (var hart in board.Harts)
        {
            var counters = hart.Counters;
            Add(byPrivilege, "machine", counters.RetiredByPrivilege[(int)PrivilegeLevel.Machine]);
            Add(byPrivilege, "supervisor", counters.RetiredByPrivilege[(int)PrivilegeLevel.Supervisor]);
            Add(byPrivilege, "user", counters.RetiredByPrivilege[(int)PrivilegeLevel.User]);
            for (var cause = 0; cause < counters.Exceptions.Length; cause++)
            {
                if (counters.Exceptions[cause] != 0)
                {
                    Add(traps, Name((ExceptionCause)cause), counters.Exceptions[cause]);
                }
            }
            for (var cause = 0; cause < counters.Interrupts.Length; cause++)
            {
                if (counters.Interrupts[cause] != 0)
                {
                    Add(interrupts, Name((InterruptCause)cause), counters.Interrupts[cause]);
                }
            }
            walks += counters.PageWalks;
            hits += counters.TlbHits;
            misses += counters.TlbMisses;
        }
        return new VmStatistics(board.InstructionsRetired, byPrivilege, traps, interrupts, hits, misses, walks, board.Bus.Ram.FramesTouched, 0);
    }

    private static void Add(Dictionary<string, ulong> counters, string name, ulong value) =>
        counters[name] = counters.GetValueOrDefault(name) + value;

    /// <summary>kebab-case cause names, as the API spells them (<c>illegal-instruction</c>).</summary>
    private static string Name<T>(T cause)
        where T : struct, Enum => System.Text.Json.JsonNamingPolicy.KebabCaseLower.ConvertName(Enum.IsDefined(cause) ? cause.ToString() : $"Cause{Convert.ToInt32(cause, System.Globalization.CultureInfo.InvariantCulture)}");
}
