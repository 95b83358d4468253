using VirtApi.Assembler;
using VirtApi.Guests;
using VirtApi.Hypervisor.Devices;
using VirtApi.Hypervisor.Techniques;
using VirtApi.Hypervisor.Vm;

namespace VirtApi.Hypervisor.Tests;

/// <summary>Runs a guest image to its end under one technique, the way a VM's worker does, without the scheduler.</summary>
internal static class GuestRun
{
    public static readonly string ProgramsFolder = Path.Combine(AppContext.BaseDirectory, "Programs");

    public static byte[] Assemble(string source, string name = "guest.S")
    {
        var result = RiscVAssembler.Assemble(source, new AssemblerOptions { FileName = name });
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        return result.Elf;
    }

    /// <summary>A built-in guest of <c>src/VirtApi.Guests</c>.</summary>
    public static byte[] BuiltIn(string name) => Assemble(GuestCatalog.Find(name)!.Source, name + ".S");

    /// <summary>A machine test program (prelude + program), or its GNU-built ELF where one is checked in.</summary>
    public static byte[] MachineProgram(string name)
    {
        var prebuilt = Path.Combine(ProgramsFolder, name + ".elf.hex");
        if (File.Exists(prebuilt))
        {
            return Convert.FromHexString(string.Concat(File.ReadAllLines(prebuilt)));
        }
        return Assemble(File.ReadAllText(Path.Combine(ProgramsFolder, "prelude.S")) + File.ReadAllText(Path.Combine(ProgramsFolder, name + ".S")), name + ".S");
    }

    public static IEnumerable<string> MachinePrograms() =>
        Directory.GetFiles(ProgramsFolder, "*.expected").Select(f => Path.GetFileNameWithoutExtension(f)!).Order(StringComparer.Ordinal);

    /// <summary>
    /// Boots and runs to the end; <paramref name="inputWhenIdle"/> is typed into the console the first
    /// time every hart waits for input, as a client would.
    /// The execution is disposed at the end, as a worker does when the VM stops (disks synced and closed).
    /// </summary>
    public static Outcome Run(
        byte[] elf,
        CpuMode mode,
        CpuProfile profile = CpuProfile.Riscv,
        ulong budget = 400_000_000,
        int vcpus = 1,
        int memoryMiB = 64,
        ulong slice = 1_000_000,
        byte[]? inputWhenIdle = null,
        IReadOnlyList<VmDeviceSpec>? devices = null,
        HypervisorType hostType = HypervisorType.Hosted)
    {
        var memory = mode == CpuMode.Native ? MemoryMode.Direct : MemoryMode.Shadow;
        var spec = new VmSpec(Guid.NewGuid(), "test", elf, vcpus, memoryMiB, mode, profile, memory, budget, devices, hostType);
        var console = new Capture();
        using var execution = new GuestExecutionFactory().Boot(spec, console);
        GuestRunResult result;
        while (true)
        {
            result = execution.Run(Math.Min(slice, budget - execution.InstructionsRetired));
            if (result.Outcome == GuestRunOutcome.Idle && inputWhenIdle is not null)
            {
                Assert.Equal(inputWhenIdle.Length, execution.FeedConsole(inputWhenIdle));
                inputWhenIdle = null;
                continue;
            }
            if (result.Outcome != GuestRunOutcome.SliceDone || execution.InstructionsRetired >= budget)
            {
                break;
            }
        }
        return new Outcome(System.Text.Encoding.ASCII.GetString([.. console.Bytes]), result, execution.CaptureStatistics());
    }

    public sealed record Outcome(string Console, GuestRunResult Result, VmStatistics Statistics);

    private sealed class Capture : IConsoleOutput
    {
        public List<byte> Bytes { get; } = [];

        public void Write(byte value) => Bytes.Add(value);
    }
}
