using System.Collections.Concurrent;
using VirtApi.Hypervisor.Snapshots;
using VirtApi.Hypervisor.Techniques;
using VirtApi.Hypervisor.Vm;

namespace VirtApi.Hypervisor.Tests.Snapshots;

/// <summary>
/// Issue 7's equivalence: a VM restored from a snapshot finishes exactly as the run it was taken from,
/// under every technique, wherever the snapshot was taken: same console, same exit, same counters.
/// </summary>
public sealed class SnapshotEquivalenceTests
{
    private static readonly ConcurrentDictionary<(CpuMode, int), Reference> References = new();

    public static TheoryData<CpuMode, int> CapturePoints()
    {
        var data = new TheoryData<CpuMode, int>();
        foreach (var mode in new[] { CpuMode.Native, CpuMode.TrapAndEmulate })
        {
            foreach (var percent in new[] { 0, 5, 35, 70, 99 })
            {
                data.Add(mode, percent);
            }
        }
        return data;
    }

    public static TheoryData<CpuMode> Modes() => new() { CpuMode.Native, CpuMode.TrapAndEmulate };

    [Theory]
    [MemberData(nameof(CapturePoints))]
    public void DemoKernel_RestoredIntoANewVm_FinishesAsTheRunItWasTakenFrom(CpuMode mode, int percent)
    {
        var reference = ReferenceRun(mode);
        var spec = SnapshotGuest.SpecFor(DemoKernel, mode);
        var original = SnapshotGuest.Boot(spec);
        original.RunTo(reference.Instructions * (ulong)percent / 100);
        var before = original.Console;
        var capture = original.Execution.Capture(SnapshotScope.Full);

        // Taking the snapshot does not disturb the run it was taken from.
        Assert.Equal(reference.Result, original.RunToEnd());
        Assert.Equal(reference.Console, original.Console);
        Assert.Equal(reference.Counters, original.GuestVisibleCounters());

        var restored = SnapshotGuest.Restore(spec, capture.State, capture.Pages);
        Assert.Equal(reference.Result, restored.RunToEnd());
        Assert.Equal(reference.Console, before + restored.Console);
        Assert.Equal(reference.Counters, restored.GuestVisibleCounters());
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void DemoKernel_SnapshotInsideTheTimerInterruptHandler_RestoresAndFinishesTheSame(CpuMode mode)
    {
        var reference = ReferenceRun(mode);
        var spec = SnapshotGuest.SpecFor(DemoKernel, mode);
        var original = SnapshotGuest.Boot(spec);
        // Step to the first timer interrupt the guest takes, then a few instructions into its handler.
        while (TimerInterrupts(original) == 0)
        {
            original.RunTo(original.Execution.InstructionsRetired + 1);
        }
        original.RunTo(original.Execution.InstructionsRetired + 3);
        var before = original.Console;
        var capture = original.Execution.Capture(SnapshotScope.Full);
        Assert.Equal(1UL, TimerInterrupts(original));

        var restored = SnapshotGuest.Restore(spec, capture.State, capture.Pages);
        Assert.Equal(1UL, TimerInterrupts(restored));
        Assert.Equal(reference.Result, restored.RunToEnd());
        Assert.Equal(reference.Console, before + restored.Console);
        Assert.Equal(reference.Counters, restored.GuestVisibleCounters());
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void UartInputPendingAtTheSnapshot_IsReadByTheRestoredGuest(CpuMode mode)
    {
        var elf = GuestRun.Assemble(File.ReadAllText(Path.Combine(GuestRun.ProgramsFolder, "uart-echo-irq.S")), "uart-echo-irq.S");
        var spec = SnapshotGuest.SpecFor(elf, mode);
        var original = SnapshotGuest.Boot(spec);
        Assert.Equal(GuestRunOutcome.Idle, original.RunToEnd().Outcome);
        // The bytes reach the receive FIFO and raise the interrupt; the guest has not run since.
        Assert.Equal(8, original.Execution.FeedConsole("pending."u8));
        var capture = original.Execution.Capture(SnapshotScope.Full);

        var restored = SnapshotGuest.Restore(spec, capture.State, capture.Pages);
        Assert.Equal(GuestRunOutcome.PoweredOff, restored.RunToEnd().Outcome);
        Assert.Equal("pending.", restored.Console);
        Assert.Equal(GuestRunOutcome.PoweredOff, original.RunToEnd().Outcome);
        Assert.Equal(original.Console, restored.Console);
        Assert.Equal(original.GuestVisibleCounters(), restored.GuestVisibleCounters());
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void FullThenTwoDiffs_ResolveToTheFullSnapshotTakenAtTheSamePoint(CpuMode mode)
    {
        var reference = ReferenceRun(mode);
        var spec = SnapshotGuest.SpecFor(DemoKernel, mode);
        var original = SnapshotGuest.Boot(spec);
        original.RunTo(reference.Instructions / 4);
        var full = original.Execution.Capture(SnapshotScope.Full);
        original.RunTo(reference.Instructions / 2);
        var diff1 = original.Execution.Capture(SnapshotScope.Diff);
        original.RunTo(reference.Instructions * 3 / 4);
        var diff2 = original.Execution.Capture(SnapshotScope.Diff);
        var before = original.Console;
        var fullAtTheEnd = original.Execution.Capture(SnapshotScope.Full);

        // A diff holds only what was written since its parent: fewer pages than the full snapshot.
        Assert.InRange(diff2.Pages.Length, 1, fullAtTheEnd.Pages.Length - 1);
        var chain = new SortedDictionary<ulong, byte[]>();
        foreach (var page in full.Pages.Concat(diff1.Pages).Concat(diff2.Pages))
        {
            chain[page.Address] = page.Bytes;
        }
        Assert.Equal(fullAtTheEnd.Pages.Select(p => p.Address), chain.Keys);
        foreach (var page in fullAtTheEnd.Pages)
        {
            Assert.True(page.Bytes.AsSpan().SequenceEqual(chain[page.Address]), $"page 0x{page.Address:x} differs");
        }
        Assert.Equal(SnapshotFormat.Serialize(fullAtTheEnd.State), SnapshotFormat.Serialize(diff2.State));

        var restored = SnapshotGuest.Restore(spec, diff2.State, chain.Select(p => new GuestPage(p.Key, p.Value)));
        Assert.Equal(reference.Result, restored.RunToEnd());
        Assert.Equal(reference.Console, before + restored.Console);
        Assert.Equal(reference.Counters, restored.GuestVisibleCounters());
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void OnTwoHarts_ARestoredVm_FinishesAsTheRunItWasTakenFrom(CpuMode mode)
    {
        var elf = GuestRun.MachineProgram("rv64a");
        var spec = SnapshotGuest.SpecFor(elf, mode, vcpus: 2);
        var reference = SnapshotGuest.Boot(spec);
        reference.RunToEnd();
        var original = SnapshotGuest.Boot(spec);
        original.RunTo(reference.Execution.InstructionsRetired / 2);
        var before = original.Console;
        var capture = original.Execution.Capture(SnapshotScope.Full);

        var restored = SnapshotGuest.Restore(spec, capture.State, capture.Pages);
        Assert.Equal(reference.LastResult, restored.RunToEnd());
        Assert.Equal(reference.Console, before + restored.Console);
        Assert.Equal(reference.GuestVisibleCounters(), restored.GuestVisibleCounters());
    }

    [Fact]
    public void AStateFromAnotherTechnique_IsRefusedWithTheReason()
    {
        var native = SnapshotGuest.Boot(SnapshotGuest.SpecFor(DemoKernel, CpuMode.Native));
        native.RunTo(10_000);
        var capture = native.Execution.Capture(SnapshotScope.Full);
        var emulated = SnapshotGuest.SpecFor(DemoKernel, CpuMode.TrapAndEmulate);

        var refused = Assert.Throws<SnapshotFormatException>(() => SnapshotGuest.Restore(emulated, capture.State, capture.Pages));
        Assert.Contains("Native", refused.Message, StringComparison.Ordinal);
        Assert.Throws<SnapshotFormatException>(() => SnapshotGuest.Restore(emulated with { CpuMode = CpuMode.Native, MemoryMiB = 32 }, capture.State, capture.Pages));
    }

    [Fact]
    public void AStateOfAnotherFormatVersion_IsRefused()
    {
        var native = SnapshotGuest.Boot(SnapshotGuest.SpecFor(DemoKernel, CpuMode.Native));
        var state = native.Execution.Capture(SnapshotScope.Full).State with { Format = SnapshotFormat.Version + 1 };

        var refused = Assert.Throws<SnapshotFormatException>(() => SnapshotFormat.Deserialize(SnapshotFormat.Serialize(state)));
        Assert.Contains($"format {SnapshotFormat.Version + 1}", refused.Message, StringComparison.Ordinal);
    }

    private static readonly byte[] DemoKernel = GuestRun.BuiltIn("demo-kernel");

    private static ulong TimerInterrupts(SnapshotGuest guest) =>
        guest.Execution.CaptureStatistics().InterruptsByCause.GetValueOrDefault("supervisor-timer");

    private static Reference ReferenceRun(CpuMode mode) => References.GetOrAdd((mode, 1), _ =>
    {
        var guest = SnapshotGuest.Boot(SnapshotGuest.SpecFor(DemoKernel, mode));
        var result = guest.RunToEnd();
        Assert.Equal(GuestRunOutcome.PoweredOff, result.Outcome);
        return new Reference(guest.Console, result, guest.GuestVisibleCounters(), guest.Execution.InstructionsRetired);
    });

    private sealed record Reference(string Console, GuestRunResult Result, object Counters, ulong Instructions);
}
