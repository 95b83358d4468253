using System.Text;
using VirtApi.Machine.Board;
using VirtApi.TestSupport;

namespace VirtApi.Machine.Tests.Differential;

/// <summary>
/// Every program in <c>Programs/</c> prints its results over the UART. <c>X.expected</c> holds what
/// <c>qemu-system-riscv64 -machine virt -bios none -nographic -kernel X.elf</c> printed; this machine must
/// print the same bytes and exit with the same code, always; with QEMU installed (CI) the same ELF also
/// runs under QEMU live, which keeps the expected files honest.
/// </summary>
public sealed class QemuDifferentialTests
{
    public static TheoryData<string> Programs()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(GuestProgram.Folder, "*.expected").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileNameWithoutExtension(file));
        }
        return data;
    }

    private static int ExpectedExit(string name) => name == "exit-code" ? 7 : 0;

    [Theory]
    [MemberData(nameof(Programs))]
    public void Program_PrintsWhatQemuPrinted_AndExitsTheSame(string name)
    {
        var expected = File.ReadAllBytes(Path.Combine(GuestProgram.Folder, name + ".expected"));
        var outcome = GuestProgram.Run(GuestProgram.Assemble(name));
        Assert.Equal(StopReason.PoweredOff, outcome.Reason);
        Assert.Equal(Encoding.ASCII.GetString(expected), Encoding.ASCII.GetString(outcome.Console));
        Assert.Equal(ExpectedExit(name), outcome.ExitCode);
    }

    [SkippableTheory]
    [MemberData(nameof(Programs))]
    public void Program_UnderQemuLive_PrintsTheExpectedBytes(string name)
    {
        var qemu = ExternalTool.Require("qemu-system-riscv64", "qemu-system-misc");
        var work = Directory.CreateTempSubdirectory("virtapi-qemu-").FullName;
        try
        {
            var elf = Path.Combine(work, name + ".elf");
            File.WriteAllBytes(elf, GuestProgram.Assemble(name));
            var run = ExternalTool.Run(qemu, ["-machine", "virt", "-bios", "none", "-nographic", "-monitor", "none", "-serial", "stdio", "-kernel", elf], TimeSpan.FromSeconds(60));
            Assert.False(run.TimedOut, $"QEMU did not finish {name}");
            Assert.Equal(ExpectedExit(name), run.ExitCode);
            Assert.Equal(
                Encoding.ASCII.GetString(File.ReadAllBytes(Path.Combine(GuestProgram.Folder, name + ".expected"))),
                Encoding.ASCII.GetString(run.Stdout));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(Programs))]
    public void Program_RunsIdentically_TwiceAndHoweverTheRunIsSliced(string name)
    {
        var elf = GuestProgram.Assemble(name);
        var whole = GuestProgram.Run(elf);
        var sliced = GuestProgram.Run(elf, slice: 777);
        Assert.Equal(whole.Console, sliced.Console);
        Assert.Equal(whole.Instructions, sliced.Instructions);
        Assert.Equal(whole.ExitCode, sliced.ExitCode);
        Assert.Equal(whole.Board.Harts[0].Counters.Exceptions, sliced.Board.Harts[0].Counters.Exceptions);
    }

    [Fact]
    public void Programs_OnFourHarts_AndOnManyThreads_GiveTheSameResults()
    {
        var names = Directory.GetFiles(GuestProgram.Folder, "*.expected").Select(Path.GetFileNameWithoutExtension).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        var elves = names.ToDictionary(n => n, GuestProgram.Assemble);
        var single = names.ToDictionary(n => n, n => GuestProgram.Run(elves[n]));
        var parallel = new System.Collections.Concurrent.ConcurrentDictionary<string, GuestProgram.Outcome>();
        Parallel.ForEach(names, new ParallelOptions { MaxDegreeOfParallelism = 4 }, n => parallel[n] = GuestProgram.Run(elves[n], harts: 4));
        foreach (var name in names)
        {
            // Harts 1-3 park in wfi; hart 0's run is the same as on a one-hart board.
            Assert.Equal(single[name].Console, parallel[name].Console);
            Assert.Equal(single[name].ExitCode, parallel[name].ExitCode);
        }
    }
}
