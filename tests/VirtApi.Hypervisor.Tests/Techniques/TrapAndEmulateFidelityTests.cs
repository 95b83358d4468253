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

    [Theory]
    [InlineData("privilege")]
    [InlineData("sv39")]
    [InlineData("rv64a")]
    public void MachineProgram_OnFourHarts_UnderTrapAndEmulate_BehavesAsNative(string name)
    {
        // Harts 1-3 park in wfi with nothing enabled; every hart has its own virtual hart and shadow tables.
        AssertSameAsNative(GuestRun.MachineProgram(name), vcpus: 4);
    }

    /// <summary>External interrupts: UART input raises source 10 at the PLIC, the hart takes MEIP, claims, echoes and completes.</summary>
    [Fact]
    public void InterruptDrivenEcho_ThroughThePlic_UnderTrapAndEmulate_BehavesAsNative()
    {
        var elf = GuestRun.Assemble(File.ReadAllText(Path.Combine(GuestRun.ProgramsFolder, "uart-echo-irq.S")), "uart-echo-irq.S");
        var emulated = AssertSameAsNative(elf, inputWhenIdle: "echo me."u8.ToArray());
        Assert.Equal("echo me.", emulated.Console);
        Assert.Equal(1UL, emulated.Statistics.InterruptsByCause["machine-external"]);
        // Three PLIC register accesses, each one exit: the priority and enable writes, and the claim
        // (the '.' powers off before the completion).
        Assert.Equal(3UL, emulated.Statistics.Vmm!.Devices.Single(d => d.Name == "plic").Exits);
    }

    private static GuestRun.Outcome AssertSameAsNative(byte[] elf, int vcpus = 1, byte[]? inputWhenIdle = null)
    {
        var native = GuestRun.Run(elf, CpuMode.Native, vcpus: vcpus, inputWhenIdle: inputWhenIdle);
        var emulated = GuestRun.Run(elf, CpuMode.TrapAndEmulate, vcpus: vcpus, inputWhenIdle: inputWhenIdle);
        Assert.Equal(GuestRunOutcome.PoweredOff, native.Result.Outcome);
        Assert.Equal(native.Console, emulated.Console);
        Assert.Equal(native.Result, emulated.Result);
        Assert.Equal(native.Statistics.InstructionsRetired, emulated.Statistics.InstructionsRetired);
        Assert.Equal(native.Statistics.InstructionsByPrivilege, emulated.Statistics.InstructionsByPrivilege);
        Assert.Equal(native.Statistics.TrapsByCause, emulated.Statistics.TrapsByCause);
        Assert.Equal(native.Statistics.InterruptsByCause, emulated.Statistics.InterruptsByCause);
        Assert.Null(native.Statistics.Vmm);
        Assert.NotNull(emulated.Statistics.Vmm);
        return emulated;
    }
}
