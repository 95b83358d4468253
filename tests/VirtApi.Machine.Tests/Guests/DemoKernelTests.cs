using System.Text;
using System.Text.RegularExpressions;
using VirtApi.Assembler;
using VirtApi.Machine.Board;
using VirtApi.TestSupport;
using GuestCatalog = VirtApi.Guests.GuestCatalog;
using GuestProgram = VirtApi.Machine.Tests.Differential.GuestProgram;

namespace VirtApi.Machine.Tests.Guests;

/// <summary>
/// The built-in <c>demo-kernel</c> image: M-mode boot, an S-mode Sv39 kernel, two U-mode tasks with
/// system calls, Sstc timer preemption and demand paging. On this machine time is virtual, so its
/// whole transcript is deterministic; under QEMU only the timing line may differ.
/// </summary>
public sealed partial class DemoKernelTests
{
    private const string Passed = "demo-kernel: all checks passed";
    private const string Lost = "interrupt state lost";

    private static string Source => GuestCatalog.Find("demo-kernel")?.Source ?? throw new InvalidOperationException("demo-kernel is not in the guest catalog");

    private static byte[] Assemble(string source)
    {
        var result = RiscVAssembler.Assemble(source, new AssemblerOptions { FileName = "demo-kernel.S" });
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        return result.Elf;
    }

    private static string Text(GuestProgram.Outcome outcome) => Encoding.ASCII.GetString(outcome.Console);

    [Fact]
    public void Kernel_Boots_RunsBothTasks_AndPassesEveryCheck()
    {
        var outcome = GuestProgram.Run(Assemble(Source));
        var transcript = Text(outcome);

        Assert.Equal(StopReason.PoweredOff, outcome.Reason);
        Assert.Equal(0, outcome.ExitCode);
        Assert.EndsWith(Passed + "\n", transcript, StringComparison.Ordinal);
        Assert.DoesNotContain(Lost, transcript, StringComparison.Ordinal);
        Assert.Contains("[A] crc32 of the buffer: 2476967229\n", transcript, StringComparison.Ordinal);
        Assert.Contains("[B] primes below 16384: 1900\n", transcript, StringComparison.Ordinal);
        // Task A's first touches of its buffer are loads, task B's are stores; each faults its code page in once.
        Assert.Contains("demo-kernel: pid 1: exit code 0, page faults: fetch 1, load 4, store 0, system calls 8\n", transcript, StringComparison.Ordinal);
        Assert.Contains("demo-kernel: pid 2: exit code 0, page faults: fetch 1, load 0, store 4, system calls 9\n", transcript, StringComparison.Ordinal);

        var timing = TimingLine().Match(transcript);
        Assert.True(timing.Success, transcript);
        Assert.True(int.Parse(timing.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= 3, timing.Value);
        Assert.True(int.Parse(timing.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) >= 3, timing.Value);

        var counters = outcome.Board.Harts[0].Counters;
        Assert.True(counters.RetiredByPrivilege[0] > 100_000, "U-mode instructions");
        Assert.True(counters.RetiredByPrivilege[1] > 1_000, "S-mode instructions");
        Assert.True(counters.RetiredByPrivilege[3] > 10, "M-mode instructions");
        Assert.True(counters.Interrupts[5] >= 6, "supervisor timer interrupts");
        Assert.Equal(17UL, counters.Exceptions[8]);  // ecalls from U: 8 + 9
        Assert.Equal(2UL, counters.Exceptions[12]);  // instruction page faults: each task's code page
        Assert.Equal(4UL, counters.Exceptions[13]);  // load page faults: task A's buffer
        Assert.Equal(4UL, counters.Exceptions[15]);  // store page faults: task B's buffer
    }

    [Fact]
    public void Kernel_RunsIdentically_TwiceAndHoweverTheRunIsSliced()
    {
        var elf = Assemble(Source);
        var first = GuestProgram.Run(elf);
        var second = GuestProgram.Run(elf);
        var sliced = GuestProgram.Run(elf, slice: 777);
        foreach (var other in new[] { second, sliced })
        {
            Assert.Equal(Text(first), Text(other));
            Assert.Equal(first.Instructions, other.Instructions);
            Assert.Equal(first.ExitCode, other.ExitCode);
            Assert.Equal(first.Board.Harts[0].Counters.Exceptions, other.Board.Harts[0].Counters.Exceptions);
            Assert.Equal(first.Board.Harts[0].Counters.Interrupts, other.Board.Harts[0].Counters.Interrupts);
        }
    }

    [Fact]
    public void Kernel_OnFourHarts_RunsOnHartZeroAlone()
    {
        var elf = Assemble(Source);
        var single = GuestProgram.Run(elf);
        var four = GuestProgram.Run(elf, harts: 4);
        Assert.Equal(Text(single), Text(four));
        Assert.Equal(0, four.ExitCode);
    }

    [Fact]
    public void Kernel_WhoseSupervisorInterruptDisableIsDropped_ReportsTheLostState_AndFails()
    {
        // What a monitor that silently drops deprivileged writes to the enable bit looks like to the kernel.
        var outcome = GuestProgram.Run(Assemble(Patch(Source, "    csrci sstatus, SIE\n    csrr t0, sstatus\n", "    nop\n    csrr t0, sstatus\n")));
        var transcript = Text(outcome);
        Assert.Equal(StopReason.PoweredOff, outcome.Reason);
        Assert.Contains("\n" + Lost + "\n", transcript, StringComparison.Ordinal);
        Assert.DoesNotContain(Passed, transcript, StringComparison.Ordinal);
        Assert.NotEqual(0, outcome.ExitCode);
    }

    [Fact]
    public void Kernel_WhoseMachineInterruptDisableIsDropped_ReportsTheLostState_BeforeLeavingMachineMode()
    {
        var outcome = GuestProgram.Run(Assemble(Patch(Source, "    csrci mstatus, 8\n", "    nop\n")));
        var lines = Text(outcome).Split('\n');
        Assert.Equal(["demo-kernel: M-mode boot on hart 0", Lost], lines[..2]);
        Assert.Equal(1, lines.Count(l => l == Lost));
        Assert.Contains("demo-kernel: checks failed: 1", lines);
        Assert.Equal(1, outcome.ExitCode);
    }

    [SkippableFact]
    public void Kernel_UnderQemu_ExitsZero_WithTheSameTimingIndependentTranscript()
    {
        var qemu = ExternalTool.Require("qemu-system-riscv64", "qemu-system-misc");
        var elf = Assemble(Source);
        var ours = Text(GuestProgram.Run(elf));
        var work = Directory.CreateTempSubdirectory("virtapi-demo-kernel-").FullName;
        try
        {
            var path = Path.Combine(work, "demo-kernel.elf");
            File.WriteAllBytes(path, elf);
            var run = ExternalTool.Run(qemu, ["-machine", "virt", "-bios", "none", "-nographic", "-monitor", "none", "-serial", "stdio", "-kernel", path], TimeSpan.FromSeconds(60));
            var theirs = Encoding.ASCII.GetString(run.Stdout);
            Assert.False(run.TimedOut, "QEMU did not finish demo-kernel:\n" + theirs);
            Assert.Equal(0, run.ExitCode);
            Assert.Contains(Passed, theirs, StringComparison.Ordinal);
            Assert.Equal(TimingIndependent(ours), TimingIndependent(theirs));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [SkippableFact]
    public void Kernel_BuiltByGnuAsAndLd_RunsTheSameOnThisMachine()
    {
        var gnu = GuestProgram.Run(GuestProgram.BuildWithGnu("demo-kernel", Source));
        var ours = GuestProgram.Run(Assemble(Source));
        Assert.Equal(Text(ours), Text(gnu));
        Assert.Equal(ours.Instructions, gnu.Instructions);
        Assert.Equal(0, gnu.ExitCode);
    }

    /// <summary>
    /// The lines that do not depend on where the timer fell: the kernel's lines in order, then each
    /// task's lines in order (the two tasks' lines may interleave differently), without the timing line.
    /// </summary>
    private static List<string> TimingIndependent(string transcript)
    {
        var lines = transcript.Split('\n').Where(l => l.Length > 0 && !l.StartsWith("demo-kernel: timing:", StringComparison.Ordinal)).ToList();
        static bool IsTask(string line) => line.StartsWith("[A] ", StringComparison.Ordinal) || line.StartsWith("[B] ", StringComparison.Ordinal);
        return
        [
            .. lines.Where(l => !IsTask(l)),
            .. lines.Where(l => l.StartsWith("[A] ", StringComparison.Ordinal)),
            .. lines.Where(l => l.StartsWith("[B] ", StringComparison.Ordinal)),
        ];
    }

    private static string Patch(string source, string from, string to)
    {
        Assert.Contains(from, source, StringComparison.Ordinal);
        return source.Replace(from, to, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"demo-kernel: timing: pid 1 preempted (\d+) times, pid 2 preempted (\d+) times, context switches \d+, kernel-mode ticks \d+\n")]
    private static partial Regex TimingLine();
}
