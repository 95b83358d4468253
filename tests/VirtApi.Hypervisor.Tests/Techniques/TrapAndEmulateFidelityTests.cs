using VirtApi.Hypervisor.Techniques;
using VirtApi.Hypervisor.Vm;

namespace VirtApi.Hypervisor.Tests.Techniques;

/// <summary>
/// Trap-and-emulate must be invisible to an unmodified guest: the same console bytes, exit code,
/// instruction count and guest-visible counters as on the bare machine (DESIGN.md, issue 6 "Fidelity").
/// </summary>
public sealed class TrapAndEmulateFidelityTests
{
    public static TheoryData<string> MachinePrograms() => [.. GuestRun.MachinePrograms()];

    [Theory]
    [MemberData(nameof(MachinePrograms))]
    public void MachineProgram_UnderTrapAndEmulate_BehavesAsNative(string name)
    {
        var elf = GuestRun.MachineProgram(name);
        AssertSameAsNative(elf);
    }

    [Theory]
    [InlineData("hello")]
    [InlineData("bench-cpu")]
    [InlineData("demo-kernel")]
    public void BuiltInGuest_UnderTrapAndEmulate_BehavesAsNative(string name)
    {
        AssertSameAsNative(GuestRun.BuiltIn(name));
    }

    private static void AssertSameAsNative(byte[] elf)
    {
        var native = GuestRun.Run(elf, CpuMode.Native);
        var emulated = GuestRun.Run(elf, CpuMode.TrapAndEmulate);
        Assert.Equal(GuestRunOutcome.PoweredOff, native.Result.Outcome);
        Assert.Equal(native.Console, emulated.Console);
        Assert.Equal(native.Result, emulated.Result);
        Assert.Equal(native.Statistics.InstructionsRetired, emulated.Statistics.InstructionsRetired);
        Assert.Equal(native.Statistics.InstructionsByPrivilege, emulated.Statistics.InstructionsByPrivilege);
        Assert.Equal(native.Statistics.TrapsByCause, emulated.Statistics.TrapsByCause);
        Assert.Equal(native.Statistics.InterruptsByCause, emulated.Statistics.InterruptsByCause);
        Assert.Null(native.Statistics.Vmm);
        Assert.NotNull(emulated.Statistics.Vmm);
    }
}
