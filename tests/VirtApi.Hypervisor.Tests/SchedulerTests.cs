using VirtApi.Assembler;
using VirtApi.Hypervisor.Techniques;
using VirtApi.Hypervisor.Vm;

namespace VirtApi.Hypervisor.Tests;

public sealed class SchedulerTests
{
    private const ulong Quantum = 10_000;

    private static readonly byte[] Spin = Assemble(".globl _start\n_start:\n    addi t0, t0, 1\n    j _start\n");

    private static byte[] Assemble(string source)
    {
        var result = RiscVAssembler.Assemble(source);
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        return result.Elf;
    }

    private static VmSpec SpinSpec(int i, ulong? budget = null) =>
        new(Guid.NewGuid(), $"spin-{i}", Spin, 1, 4, CpuMode.Native, CpuProfile.Riscv, MemoryMode.Direct, budget);

    private sealed class NoEvents : IVmEventSink
    {
        public void Publish(VmEvent vmEvent)
        {
        }
    }

    [Fact]
    public async Task HundredRunningVms_AllMakeProgress_RoundRobin()
    {
        using var scheduler = new VmScheduler(2, Quantum, (_, _) => { });
        scheduler.Start();
        var workers = Enumerable.Range(0, 100)
            .Select(i => scheduler.CreateWorker(SpinSpec(i), new VmStatus(VmState.Created, null, null, 0, 0, 0), new GuestExecutionFactory(), new NoEvents()))
            .ToList();
        foreach (var worker in workers)
        {
            Assert.True((await worker.SendAsync(new LifecycleCommand(VmAction.Boot))).Accepted);
        }
        // Wait until the first VM has had three more turns after the last boot was answered (it may
        // have had many while the others were booting, and a boot is answered before its first slice
        // runs); round robin means every other VM has had at least one turn by then.
        var baseline = workers[0].Status.InstructionsRetired;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (workers[0].Status.InstructionsRetired < baseline + (3 * Quantum))
        {
            timeout.Token.ThrowIfCancellationRequested();
            await Task.Yield();
        }
        Assert.All(workers, w => Assert.True(w.Status.InstructionsRetired >= Quantum, $"{w.Id} retired {w.Status.InstructionsRetired}"));
        foreach (var worker in workers)
        {
            await worker.SendAsync(new LifecycleCommand(VmAction.Stop));
        }
    }

    [Fact]
    public async Task Budget_StopsAtExactlyTheBudget_WhateverTheQuantum()
    {
        using var scheduler = new VmScheduler(1, 7_777, (_, _) => { });
        scheduler.Start();
        var worker = scheduler.CreateWorker(SpinSpec(0, budget: 100_000), new VmStatus(VmState.Created, null, null, 0, 0, 0), new GuestExecutionFactory(), new NoEvents());
        await worker.SendAsync(new LifecycleCommand(VmAction.Boot));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (worker.Status.State == VmState.Running)
        {
            timeout.Token.ThrowIfCancellationRequested();
            await Task.Yield();
        }
        Assert.Equal(VmState.Stopped, worker.Status.State);
        Assert.Equal(StopReasons.InstructionBudget, worker.Status.Reason);
        Assert.Equal(100_000UL, worker.Status.InstructionsRetired);
        Assert.Equal(100_000UL, worker.Statistics.InstructionsRetired);
    }

    [Fact]
    public void ConsoleLog_KeepsTheNewestBytes_CountsDropped_AndAnswersFromTheOldestKept()
    {
        var log = new ConsoleLog(capacity: 16);
        log.Append("0123456789abcdefGHIJ"u8);
        Assert.Equal(20, log.Written);
        Assert.Equal(4, log.Dropped);
        var chunk = log.Read(since: 0);
        Assert.Equal(4, chunk.Offset);
        Assert.Equal(4, chunk.Missed);
        Assert.Equal("456789abcdefGHIJ"u8.ToArray(), chunk.Bytes);
        Assert.Equal(20, chunk.Next);
        Assert.Empty(log.Read(since: 20).Bytes);
    }

    [Theory]
    [InlineData(CpuMode.Native, MemoryMode.Direct, ModeCheck.Valid)]
    [InlineData(CpuMode.Native, MemoryMode.Shadow, ModeCheck.Invalid)]
    [InlineData(CpuMode.TrapAndEmulate, MemoryMode.Shadow, ModeCheck.Valid)]
    [InlineData(CpuMode.TrapAndEmulate, MemoryMode.Direct, ModeCheck.Invalid)]
    [InlineData(CpuMode.BinaryTranslation, MemoryMode.Shadow, ModeCheck.Unavailable)]
    [InlineData(CpuMode.HardwareAssisted, MemoryMode.Nested, ModeCheck.Unavailable)]
    [InlineData(CpuMode.Paravirtual, MemoryMode.Nested, ModeCheck.Invalid)]
    public void TechniqueCatalog_FollowsTheDesignTable(CpuMode cpu, MemoryMode memory, ModeCheck expected) =>
        Assert.Equal(expected, TechniqueCatalog.Check(cpu, CpuProfile.Riscv, memory));
}
