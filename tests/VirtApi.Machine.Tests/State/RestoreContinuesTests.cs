using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using VirtApi.Assembler;
using VirtApi.Machine.Board;
using VirtApi.Machine.Hart;
using VirtApi.Machine.Tests.Differential;
using GuestCatalog = VirtApi.Guests.GuestCatalog;

namespace VirtApi.Machine.Tests.State;

/// <summary>
/// The property snapshots exist for: a board saved at any instruction boundary, serialized, and
/// restored into a new board with its RAM frames goes on exactly as the original: the rest of the
/// console output, the exit, the instruction count, the counters, the final state and memory.
/// </summary>
public sealed class RestoreContinuesTests
{
    private static byte[] Assemble(string source, string name = "program.S")
    {
        var result = RiscVAssembler.Assemble(source, new AssemblerOptions { FileName = name });
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        return result.Elf;
    }

    private static byte[] DemoKernel() =>
        Assemble(GuestCatalog.Find("demo-kernel")?.Source ?? throw new InvalidOperationException("demo-kernel is not in the guest catalog"), "demo-kernel.S");

    /// <summary>A capture: the snapshot, the console output before it, and why it was taken.</summary>
    private sealed record Capture(string Json, int ConsoleLength, ulong Instructions, string Why);

    /// <summary>How a machine ended, in the terms a restored one must match.</summary>
    private sealed record Ending(StopReason Reason, int ExitCode, ulong Instructions, string State, string Memory, HartCountersState[] Translations);

    /// <summary>
    /// A restored hart starts with an empty TLB and no fetch page: each of the 64 TLB slots may miss
    /// once where the original hit, and the first fetch translates (once per 16-bit parcel, so twice for
    /// a 32-bit instruction) where the original used its fetch page. No more than that: after it the
    /// caches hold what the original's hold.
    /// </summary>
    private static void AssertTranslationCounters(HartCountersState original, HartCountersState restored, string context)
    {
        var lookups = (long)(restored.TlbHits + restored.TlbMisses) - (long)(original.TlbHits + original.TlbMisses);
        var misses = (long)restored.TlbMisses - (long)original.TlbMisses;
        var walks = (long)restored.PageWalks - (long)original.PageWalks;
        Assert.True(lookups is >= 0 and <= 2, $"{context}: {lookups} more TLB lookups");
        Assert.True(misses is >= 0 and <= 66, $"{context}: {misses} more TLB misses");
        Assert.True(walks == misses, $"{context}: {walks} more page walks, {misses} more misses");
    }

    private static Ending End(TestMachine machine, RunResult result)
    {
        // The translation counters count cache behaviour, and caches are rebuilt, not saved: they are
        // compared apart (AssertTranslationCounters), the state without them must be identical.
        var state = machine.Board.Save();
        var translations = state.Harts.Select(h => h.Counters).ToArray();
        state = state with { Harts = [.. state.Harts.Select(h => h with { Counters = h.Counters with { PageWalks = 0, TlbHits = 0, TlbMisses = 0 } })] };
        var memory = new StringBuilder();
        foreach (var (address, frame) in machine.Board.Bus.Ram.TouchedFrames())
        {
            memory.Append(address.ToString("x", System.Globalization.CultureInfo.InvariantCulture)).Append(':').Append(Convert.ToHexString(SHA256.HashData(frame.Span))).Append('\n');
        }
        return new Ending(result.Reason, machine.Board.ExitCode, machine.Board.InstructionsRetired, JsonSerializer.Serialize(state, SavedMachine.Json), memory.ToString(), translations);
    }

    /// <summary>
    /// Runs <paramref name="elf"/> one instruction per <c>Run</c> call (every return is a boundary),
    /// saving wherever <paramref name="capture"/> says; then restores every capture into a new board and
    /// checks that it ends exactly as the original did. Returns the captures' reasons.
    /// </summary>
    private static List<string> AssertEveryCaptureContinuesIdentically(byte[] elf, int harts, Func<VirtBoard, string?> capture, Action<TestMachine>? feed = null)
    {
        var original = TestMachine.Boot(elf, harts);
        var captures = new List<Capture>();
        RunResult result;
        do
        {
            result = original.Board.Run(1);
            feed?.Invoke(original);
            if (result.Reason == StopReason.InstructionLimit && capture(original.Board) is { } why)
            {
                captures.Add(new Capture(original.Save(), original.Console.Count, original.Board.InstructionsRetired, why));
            }
        }
        while (result.Reason == StopReason.InstructionLimit);
        var expected = End(original, result);
        var console = original.Console.ToArray();

        // Saving does not disturb the original: it ran as a board nobody saved.
        var unsaved = GuestProgram.Run(elf, harts);
        Assert.Equal(unsaved.Console, console);
        Assert.Equal(unsaved.Instructions, expected.Instructions);

        for (var i = 0; i < captures.Count; i++)
        {
            var saved = captures[i];
            var restored = TestMachine.Restore(TestMachine.Config(harts), saved.Json);
            // Sliced differently from the original too: the run must not depend on where Run returns.
            var ending = End(restored, restored.RunToEnd(slice: i % 2 == 0 ? ulong.MaxValue : 777));
            var context = $"restored at {saved.Instructions} ({saved.Why})";
            Assert.True(console.AsSpan(saved.ConsoleLength).SequenceEqual(restored.Console.ToArray()), context + ": console differs");
            Assert.True(expected.Reason == ending.Reason, $"{context}: {ending.Reason}, expected {expected.Reason}");
            Assert.True(expected.ExitCode == ending.ExitCode, $"{context}: exit code {ending.ExitCode}, expected {expected.ExitCode}");
            Assert.True(expected.Instructions == ending.Instructions, $"{context}: {ending.Instructions} instructions, expected {expected.Instructions}");
            Assert.True(expected.Memory == ending.Memory, context + ": memory differs");
            Assert.True(expected.State == ending.State, $"{context}: state differs\n{expected.State}\n{ending.State}");
            for (var hart = 0; hart < harts; hart++)
            {
                AssertTranslationCounters(expected.Translations[hart], ending.Translations[hart], $"{context}, hart {hart}");
            }
        }
        return [.. captures.Select(c => c.Why)];
    }

    private const ulong TimerLines = (1UL << 5) | (1UL << 7);

    /// <summary>
    /// Every <paramref name="grid"/> instructions, and at the start of the first <paramref name="each"/>
    /// episodes (then of every 25th) in which a hart's timer is due but not yet seen by it (the run loop
    /// looks at the next instruction), its timer line is high, or it waits in wfi.
    /// </summary>
    private static Func<VirtBoard, string?> Points(ulong grid, int each)
    {
        var episodes = new Dictionary<string, int>();
        var before = new HashSet<(int, string)>();
        bool Starts(int hart, string kind, bool now)
        {
            if (!now)
            {
                before.Remove((hart, kind));
                return false;
            }
            if (!before.Add((hart, kind)))
            {
                return false;
            }
            var n = episodes[kind] = episodes.GetValueOrDefault(kind) + 1;
            return n <= each || n % 25 == 0;
        }
        return board =>
        {
            string? why = board.InstructionsRetired % grid == 0 ? "grid" : null;
            foreach (var hart in board.Harts)
            {
                var line = (hart.Csrs.Mip & TimerLines) != 0;
                var due = !line && hart.NextTimerDeadline() is { } deadline && ((ICsrHost)hart).Time >= deadline;
                // Every condition is tracked at every boundary, so an episode starts only once.
                var starts = new[]
                {
                    Starts(hart.Id, "timer due, not yet seen", due) ? "timer due, not yet seen" : null,
                    Starts(hart.Id, "timer pending", line) ? "timer pending" : null,
                    Starts(hart.Id, "waiting in wfi", hart.Waiting) ? "waiting in wfi" : null,
                };
                why ??= starts.FirstOrDefault(s => s is not null);
            }
            return why;
        };
    }

    [Fact]
    public void DemoKernel_RestoredEvery50000Instructions_AndAtTimerEdges_FinishesAsTheOriginal()
    {
        var reasons = AssertEveryCaptureContinuesIdentically(DemoKernel(), harts: 1, Points(50_000, each: 3));
        Assert.True(reasons.Count(r => r == "grid") >= 20, string.Join(", ", reasons));
        Assert.Contains("timer due, not yet seen", reasons);
        Assert.Contains("timer pending", reasons);
    }

    [Fact]
    public void DemoKernel_OnTwoHarts_RestoredWhileTheOtherHartWaits_FinishesAsTheOriginal()
    {
        var reasons = AssertEveryCaptureContinuesIdentically(DemoKernel(), harts: 2, Points(100_000, each: 2));
        Assert.Contains("grid", reasons);
        Assert.Contains("waiting in wfi", reasons);
    }
}
