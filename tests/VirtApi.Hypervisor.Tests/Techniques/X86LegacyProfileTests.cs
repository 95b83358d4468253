using VirtApi.Hypervisor.Techniques;
using VirtApi.Hypervisor.Vm;

namespace VirtApi.Hypervisor.Tests.Techniques;

/// <summary>
/// The lesson of the x86-legacy profile (DESIGN.md "CPU profile"): when sensitive instructions do not
/// trap, trap-and-emulate cannot keep a deprivileged kernel correct. demo-kernel disables interrupts
/// around its critical sections and checks the bit it reads back.
/// </summary>
public sealed class X86LegacyProfileTests
{
    private static readonly byte[] DemoKernel = GuestRun.BuiltIn("demo-kernel");

    [Fact]
    public void DemoKernel_UnderTrapAndEmulateWithX86Legacy_LosesItsInterruptState()
    {
        var run = GuestRun.Run(DemoKernel, CpuMode.TrapAndEmulate, CpuProfile.X86Legacy);
        Assert.Contains("interrupt state lost\n", run.Console, StringComparison.Ordinal);
        Assert.DoesNotContain("all checks passed", run.Console, StringComparison.Ordinal);
        Assert.Equal(GuestRunOutcome.PoweredOff, run.Result.Outcome);
        Assert.NotEqual(0, run.Result.ExitCode);
        Assert.True(run.Statistics.SilentFailures > 0);
    }

    [Fact]
    public void DemoKernel_UnderTrapAndEmulateWithRiscv_KeepsItsInterruptState()
    {
        var run = GuestRun.Run(DemoKernel, CpuMode.TrapAndEmulate, CpuProfile.Riscv);
        Assert.DoesNotContain("interrupt state lost", run.Console, StringComparison.Ordinal);
        Assert.Contains("demo-kernel: all checks passed\n", run.Console, StringComparison.Ordinal);
        Assert.Equal(0, run.Result.ExitCode);
        Assert.Equal(0UL, run.Statistics.SilentFailures);
        // Every sstatus access of the kernel trapped instead, as a CSR access the VMM emulated.
        Assert.True(run.Statistics.Vmm!.TrapsByCause["csr"] > 0);
    }

    [Fact]
    public void DemoKernel_NativeOnX86Legacy_IsUnharmed_BecauseItsKernelIsNotDeprivileged()
    {
        var run = GuestRun.Run(DemoKernel, CpuMode.Native, CpuProfile.X86Legacy);
        Assert.Contains("demo-kernel: all checks passed\n", run.Console, StringComparison.Ordinal);
        Assert.Equal(0, run.Result.ExitCode);
        Assert.Equal(0UL, run.Statistics.SilentFailures);
    }
}
