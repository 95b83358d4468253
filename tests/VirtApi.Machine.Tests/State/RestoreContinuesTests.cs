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
    /// <remarks>
    /// <paramref name="whenIdle"/> is the outside world: called when a board stops idle (every hart in
    /// wfi, nothing armed), it may type input and say so, and the board goes on. The original is saved
    /// just before and just after.
    /// </remarks>
    private static List<string> AssertEveryCaptureContinuesIdentically(byte[] elf, int harts, Func<VirtBoard, string?> capture, Func<TestMachine, bool>? whenIdle = null)
    {
        var original = TestMachine.Boot(elf, harts);
        var captures = new List<Capture>();
        void Take(string why) => captures.Add(new Capture(original.Save(), original.Console.Count, original.Board.InstructionsRetired, why));
        RunResult result;
        while (true)
        {
            result = original.Board.Run(1);
            if (result.Reason == StopReason.Idle && whenIdle is not null)
            {
                Take("idle in wfi");
                if (whenIdle(original))
                {
                    Take("input waiting in the receive FIFO");
                    continue;
                }
            }
            if (result.Reason != StopReason.InstructionLimit)
            {
                break;
            }
            if (capture(original.Board) is { } why)
            {
                Take(why);
            }
        }
        var expected = End(original, result);
        var console = original.Console.ToArray();

        if (whenIdle is null)
        {
            // Saving does not disturb the original: it ran as a board nobody saved.
            var unsaved = GuestProgram.Run(elf, harts);
            Assert.Equal(unsaved.Console, console);
            Assert.Equal(unsaved.Instructions, expected.Instructions);
        }

        for (var i = 0; i < captures.Count; i++)
        {
            var saved = captures[i];
            var restored = TestMachine.Restore(TestMachine.Config(harts), saved.Json);
            // Sliced differently from the original too: the run must not depend on where Run returns.
            var slice = i % 2 == 0 ? ulong.MaxValue : 777;
            if (saved.Why == "idle in wfi")
            {
                // The original was given its input at once; running an idle board again first would
                // let another round of virtual time pass (as it would on the original).
                Assert.True(whenIdle!(restored));
            }
            var stop = restored.RunToEnd(slice);
            while (stop.Reason == StopReason.Idle && whenIdle is not null && whenIdle(restored))
            {
                stop = restored.RunToEnd(slice);
            }
            var ending = End(restored, stop);
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

    [Theory]
    [InlineData("rv64i", 1)]
    [InlineData("rv64m", 1)]
    [InlineData("rv64a", 1)]
    [InlineData("rv64a", 2)]
    [InlineData("privilege", 1)]
    [InlineData("privilege", 2)]
    [InlineData("sv39", 1)]
    [InlineData("smc", 1)]
    [InlineData("compressed", 1)]
    [InlineData("exit-code", 1)]
    public void TestProgram_RestoredAtTwentyPoints_FinishesAsTheOriginal(string name, int harts)
    {
        var elf = GuestProgram.Assemble(name);
        var total = GuestProgram.Run(elf, harts).Instructions;
        var reasons = AssertEveryCaptureContinuesIdentically(elf, harts, Points(Math.Max(1, total / 20), each: 2));
        Assert.True(reasons.Count(r => r == "grid") >= 19, $"{total} instructions: {string.Join(", ", reasons)}");
    }

    [Fact]
    public void ConsoleReader_RestoredIdle_WithInputInTheFifo_AndWhileDrainingIt_EchoesAsTheOriginal()
    {
        // Programs/uart-echo-irq.S: waits in wfi for UART input, echoes it from the PLIC handler.
        var elf = Assemble(File.ReadAllText(Path.Combine(GuestProgram.Folder, "uart-echo-irq.S")));
        var typed = new HashSet<VirtBoard>();
        bool Type(TestMachine machine) => typed.Add(machine.Board) && machine.Board.Uart.Receive("snapshot."u8) == 9;

        // Every instruction once the input is there: a byte still in the FIFO, the source claimed.
        var reasons = AssertEveryCaptureContinuesIdentically(elf, harts: 1, board => board.Uart.PendingInput > 0 ? "draining the FIFO" : null, Type);

        Assert.Contains("idle in wfi", reasons);
        Assert.Contains("input waiting in the receive FIFO", reasons);
        Assert.True(reasons.Count(r => r == "draining the FIFO") > 20, string.Join(", ", reasons));
    }

    [Fact]
    public void Reservation_SurvivesARestore_OnOneHart_AndIsBrokenByTheOtherHart_OnTwo()
    {
        // Hart 0 reserves a cell, spins a while, then stores conditionally and prints the result
        // (0: stored); on two harts hart 1 stores to the cell during the spin (1: SC failed).
        var elf = Assemble("""
            .globl _start
            _start:
                la s0, cell
                csrr t0, mhartid
                bnez t0, other
                lr.d t1, (s0)
                li t2, 1500
            1:  addi t2, t2, -1
                bnez t2, 1b
                li t3, 42
                sc.d a0, t3, (s0)
                li t0, 0x10000000
                addi a0, a0, 48
                sb a0, 0(t0)
                li t0, 0x100000
                li t1, 0x5555
                sw t1, 0(t0)
            other:
                li t1, 7
                sd t1, 0(s0)
            2:  wfi
                j 2b
                .data
                .align 3
            cell: .dword 0
            """);
        foreach (var (harts, printed) in new[] { (1, "0"), (2, "1") })
        {
            Assert.Equal(printed, Encoding.ASCII.GetString(GuestProgram.Run(elf, harts).Console));
            var reasons = AssertEveryCaptureContinuesIdentically(elf, harts, board =>
                board.InstructionsRetired % 97 != 0 ? null : board.Harts[0].Save().Reservation is null ? "grid" : "reservation held");
            Assert.True(reasons.Count(r => r == "reservation held") >= 10, string.Join(", ", reasons));
        }
    }

    [Fact]
    public void HtifProgram_RestoredMidway_StillPrintsAndPassesThroughHtif()
    {
        // Prints through HTIF's console (device 1, command 1), counts down, then passes (tohost = 1).
        var elf = Assemble("""
            .globl _start
            _start:
                la s0, tohost
                li s1, (1 << 56) | (1 << 48)
                li s2, 5
            1:  addi t1, s1, 104      # 'h'
                sd t1, 0(s0)
                li t2, 200
            2:  addi t2, t2, -1
                bnez t2, 2b
                addi s2, s2, -1
                bnez s2, 1b
                li t1, 1
                sd t1, 0(s0)
            3:  j 3b
                .data
                .align 3
            tohost: .dword 0
            fromhost: .dword 0
            """);
        Assert.Equal("hhhhh", Encoding.ASCII.GetString(GuestProgram.Run(elf).Console));
        var reasons = AssertEveryCaptureContinuesIdentically(elf, harts: 1, board => board.InstructionsRetired % 50 == 0 ? "grid" : null);
        Assert.True(reasons.Count >= 15, string.Join(", ", reasons));
    }
}
