using VirtApi.Hypervisor.Snapshots;
using VirtApi.Hypervisor.Techniques;
using VirtApi.Hypervisor.Vm;

namespace VirtApi.Hypervisor.Tests.Snapshots;

/// <summary>
/// One boot of a guest under test, driven the way a VM's worker drives it but to exact instruction
/// counts, with its console captured; snapshots go through the real state format.
/// </summary>
internal sealed class SnapshotGuest : IConsoleOutput
{
    private readonly List<byte> _console = [];

    private SnapshotGuest(VmSpec spec) => Spec = spec;

    public VmSpec Spec { get; }

    public IGuestExecution Execution { get; private set; } = null!;

    public string Console => System.Text.Encoding.ASCII.GetString([.. _console]);

    public GuestRunResult LastResult { get; private set; }

    public static VmSpec SpecFor(byte[] elf, CpuMode mode, int vcpus = 1) =>
        new(Guid.NewGuid(), "snapshot-test", elf, vcpus, 64, mode, CpuProfile.Riscv, mode == CpuMode.Native ? MemoryMode.Direct : MemoryMode.Shadow, null);

    public static SnapshotGuest Boot(VmSpec spec)
    {
        var guest = new SnapshotGuest(spec);
        guest.Execution = new GuestExecutionFactory().Boot(spec, guest);
        return guest;
    }

    /// <summary>A new VM from <paramref name="state"/> (after a trip through the stored format) and <paramref name="pages"/>.</summary>
    public static SnapshotGuest Restore(VmSpec spec, VmSnapshotState state, IEnumerable<GuestPage> pages)
    {
        var guest = new SnapshotGuest(spec);
        var stored = SnapshotFormat.Deserialize(SnapshotFormat.Serialize(state));
        guest.Execution = new GuestExecutionFactory().Restore(spec, stored, pages, guest);
        return guest;
    }

    public void Write(byte value) => _console.Add(value);

    /// <summary>Runs until exactly <paramref name="instructions"/> have retired in all (or the guest stops first).</summary>
    public void RunTo(ulong instructions)
    {
        while (Execution.InstructionsRetired < instructions)
        {
            LastResult = Execution.Run(instructions - Execution.InstructionsRetired);
            if (LastResult.Outcome != GuestRunOutcome.SliceDone)
            {
                return;
            }
        }
    }

    /// <summary>Runs to the guest's end in slices of <paramref name="slice"/>; <paramref name="inputWhenIdle"/> is typed when it first waits for input.</summary>
    public GuestRunResult RunToEnd(ulong slice = 100_000, byte[]? inputWhenIdle = null)
    {
        for (var spent = 0UL; spent < 50_000_000; spent += slice)
        {
            LastResult = Execution.Run(slice);
            if (LastResult.Outcome == GuestRunOutcome.Idle && inputWhenIdle is not null)
            {
                Execution.FeedConsole(inputWhenIdle);
                inputWhenIdle = null;
                continue;
            }
            if (LastResult.Outcome != GuestRunOutcome.SliceDone)
            {
                return LastResult;
            }
        }
        throw new InvalidOperationException("the guest did not end");
    }

    /// <summary>The counters a guest can see or that describe what it did (not the VMM's own work).</summary>
    public object GuestVisibleCounters()
    {
        var s = Execution.CaptureStatistics();
        return new
        {
            s.InstructionsRetired,
            ByPrivilege = string.Join(",", s.InstructionsByPrivilege.Select(p => $"{p.Key}={p.Value}")),
            Traps = string.Join(",", s.TrapsByCause.Select(p => $"{p.Key}={p.Value}")),
            Interrupts = string.Join(",", s.InterruptsByCause.Select(p => $"{p.Key}={p.Value}")),
            s.SilentFailures,
        };
    }
}
