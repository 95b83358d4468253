using VirtApi.Hypervisor.Devices;
using VirtApi.Hypervisor.Migration;
using VirtApi.Hypervisor.Snapshots;
using VirtApi.Hypervisor.Techniques;
using VirtApi.Hypervisor.Vm;

namespace VirtApi.Hypervisor.Tests.Migration;

/// <summary>
/// Live and cold migration on the real worker, stepped on the test's thread (DESIGN.md "Migration"): the
/// guest's output after a migration is exactly an unmigrated run's, the rounds follow the pre-copy rules,
/// and a cancel or a failure leaves the VM running on the source, unharmed.
/// </summary>
public sealed class LiveMigrationTests
{
    private static readonly byte[] DemoKernel = GuestRun.BuiltIn("demo-kernel");

    public static TheoryData<CpuMode> Modes => [CpuMode.Native, CpuMode.TrapAndEmulate];

    private static readonly Dictionary<CpuMode, GuestRun.Outcome> Unmigrated = [];

    private static GuestRun.Outcome Reference(CpuMode mode)
    {
        lock (Unmigrated)
        {
            if (!Unmigrated.TryGetValue(mode, out var outcome))
            {
                outcome = GuestRun.Run(DemoKernel, mode);
                Assert.Equal(GuestRunOutcome.PoweredOff, outcome.Result.Outcome);
                Unmigrated[mode] = outcome;
            }
            return outcome;
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void DemoKernel_MigratedLiveMidRun_PrintsExactlyWhatAnUnmigratedRunPrints(CpuMode mode)
    {
        var reference = Reference(mode);
        var vm = SteppedVm.Boot(DemoKernel, mode);
        vm.RunTo(reference.Statistics.InstructionsRetired / 3);

        Assert.True(vm.Migrate(MigrationMode.Live).Accepted);
        Assert.Equal(VmState.Migrating, vm.Status.State);
        var report = vm.FinishMigration();

        Assert.Equal(MigrationPhase.Completed, report.Phase);
        Assert.Equal(VmState.Running, vm.Status.State);
        Assert.Equal([MigrationPhase.PreCopy, MigrationPhase.StopAndCopy], vm.Phases);
        Assert.NotEmpty(report.Rounds);
        Assert.Equal(report.Rounds, vm.Rounds);
        Assert.Equal(report.Rounds.Sum(r => (long)r.PagesSent) + report.StopAndCopy!.PagesSent, report.TotalPagesSent);
        Assert.True(report.StopAndCopy.StateBytes > 0);
        Assert.True(report.StopAndCopy.DowntimeInstructions >= (ulong)report.StopAndCopy.PagesSent * new MigrationLink().InstructionsPerPage);
        // The guest ran while round 0 was sent: the link's time is the guest's.
        Assert.True(report.Rounds[0].GuestInstructions > 0);

        vm.RunToEnd();
        Assert.Equal(reference.Console, vm.Console);
        Assert.Equal(StopReasons.GuestPowerOff, vm.Status.Reason);
        Assert.Equal(reference.Statistics.InstructionsRetired, vm.Status.InstructionsRetired);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void TargetShortOfMemory_FailsTheMigration_AndTheVmRunsOnOnTheSourceUnharmed(CpuMode mode)
    {
        var reference = Reference(mode);
        var vm = SteppedVm.Boot(DemoKernel, mode);
        vm.RunTo(reference.Statistics.InstructionsRetired / 4);

        Assert.True(vm.Migrate(MigrationMode.Live, targetFrames: 8).Accepted);
        var report = vm.FinishMigration();

        Assert.Equal(MigrationPhase.Failed, report.Phase);
        Assert.Contains("ran out of machine memory", report.Error);
        Assert.Null(report.StopAndCopy);
        Assert.Equal(VmState.Running, report.Status.State);
        vm.RunToEnd();
        Assert.Equal(reference.Console, vm.Console);
        Assert.Equal(reference.Statistics.InstructionsRetired, vm.Status.InstructionsRetired);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void TargetCannotOpenTheDisk_FailsTheMigration_AndTheVmRunsOnOnTheSource(CpuMode mode)
    {
        var reference = Reference(mode);
        var folder = Directory.CreateTempSubdirectory("virtapi-migration-disk-").FullName;
        try
        {
            var disk = new VmDeviceSpec(Guid.NewGuid(), "ata0", DeviceKind.Block, DeviceModel.Emulated, 0, new DiskBacking(Path.Combine(folder, "disk.img"), 1 << 20));
            var vm = SteppedVm.Boot(DemoKernel, mode, devices: [disk]);
            vm.RunTo(reference.Statistics.InstructionsRetired / 4);
            // On the target the disk's folder is a file: the target cannot open it.
            var blocked = Path.Combine(folder, "not-a-folder");
            File.WriteAllText(blocked, "");
            var target = vm.Spec with { Devices = [disk with { Disk = new DiskBacking(Path.Combine(blocked, "disk.img"), 1 << 20) }] };

            Assert.True(vm.Migrate(MigrationMode.Live, target: target).Accepted);
            var report = vm.FinishMigration();

            Assert.Equal(MigrationPhase.Failed, report.Phase);
            Assert.StartsWith("the target could not start the VM", report.Error);
            Assert.Equal(VmState.Running, vm.Status.State);
            vm.RunToEnd();
            Assert.Equal(reference.Console, vm.Console);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Cancel_DuringPreCopy_LeavesTheVmRunningOnTheSource(CpuMode mode)
    {
        var reference = Reference(mode);
        var vm = SteppedVm.Boot(DemoKernel, mode);
        vm.RunTo(reference.Statistics.InstructionsRetired / 4);
        // A slow link: round 0 takes far longer than the few slices before the cancel.
        Assert.True(vm.Migrate(MigrationMode.Live, link: new MigrationLink { InstructionsPerPage = 10_000, ChunkPages = 4 }).Accepted);
        vm.Step(20);
        Assert.Equal(VmState.Migrating, vm.Status.State);
        Assert.Null(vm.Report);
        Assert.Equal([MigrationPhase.PreCopy], vm.Phases);

        // Only the migration's own id cancels it.
        Assert.False(vm.Send(new CancelMigrationCommand(Guid.NewGuid())).Accepted);
        var cancel = vm.Send(new CancelMigrationCommand(vm.LastPlan!.MigrationId));

        Assert.True(cancel.Accepted);
        Assert.Equal(MigrationPhase.Cancelled, vm.Report!.Phase);
        Assert.Equal(VmState.Running, vm.Status.State);
        vm.RunToEnd();
        Assert.Equal(reference.Console, vm.Console);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void ColdMigration_OfAPausedVm_MovesEveryTouchedPage_AndItGoesOnIdentically(CpuMode mode)
    {
        var reference = Reference(mode);
        var vm = SteppedVm.Boot(DemoKernel, mode);
        Assert.False(vm.Migrate(MigrationMode.Cold).Accepted); // running: cold is refused
        vm.RunTo(reference.Statistics.InstructionsRetired / 2);
        Assert.True(vm.Send(new LifecycleCommand(VmAction.Pause)).Accepted);
        Assert.False(vm.Migrate(MigrationMode.Live).Accepted); // paused: live is refused

        Assert.True(vm.Migrate(MigrationMode.Cold).Accepted);

        var report = vm.Report!;
        Assert.Equal(MigrationPhase.Completed, report.Phase);
        Assert.Empty(report.Rounds);
        Assert.Equal(report.StopAndCopy!.PagesSent, report.TotalPagesSent);
        Assert.True(report.TotalPagesSent > 10);
        Assert.Equal(VmState.Paused, vm.Status.State);
        Assert.Equal(StopReasons.Migrated, vm.Status.Reason);
        Assert.True(vm.Send(new LifecycleCommand(VmAction.Resume)).Accepted);
        vm.RunToEnd();
        Assert.Equal(reference.Console, vm.Console);
    }

    [Fact]
    public void GuestPowersOffDuringPreCopy_TheMigrationFails_AndTheVmIsStoppedOnTheSource()
    {
        var reference = Reference(CpuMode.Native);
        var vm = SteppedVm.Boot(DemoKernel, CpuMode.Native);
        vm.RunTo(reference.Statistics.InstructionsRetired - 50_000);
        Assert.True(vm.Migrate(MigrationMode.Live, link: new MigrationLink { InstructionsPerPage = 100_000, ChunkPages = 1 }).Accepted);

        var report = vm.FinishMigration();

        Assert.Equal(MigrationPhase.Failed, report.Phase);
        Assert.Contains("guest stopped during pre-copy (guest-power-off)", report.Error);
        Assert.Equal(VmState.Stopped, vm.Status.State);
        Assert.Equal(reference.Console, vm.Console);
    }

    [Fact]
    public void PausePointDuringPreCopy_HoldsTheGuest_AndItLandsPausedAtExactlyThatInstruction()
    {
        var reference = Reference(CpuMode.TrapAndEmulate);
        var vm = SteppedVm.Boot(DemoKernel, CpuMode.TrapAndEmulate);
        vm.RunTo(100_000);
        Assert.True(vm.Send(new LifecycleCommand(VmAction.Pause)).Accepted);
        var pausePoint = vm.Status.InstructionsRetired + 25_000;
        Assert.True(vm.Send(new LifecycleCommand(VmAction.Resume, pausePoint)).Accepted);

        // Round 0 alone takes the guest's time for its 20-odd pages at 1000 instructions each, and the
        // resume's slice ran 10 000 of the 25 000: the pause point falls in round 0.
        Assert.True(vm.Migrate(MigrationMode.Live, link: new MigrationLink { InstructionsPerPage = 1_000 }).Accepted);
        var report = vm.FinishMigration();

        Assert.Equal(MigrationPhase.Completed, report.Phase);
        Assert.Equal(VmState.Paused, vm.Status.State);
        Assert.Equal(StopReasons.PausePoint, vm.Status.Reason);
        Assert.Equal(pausePoint, vm.Status.InstructionsRetired);
        Assert.True(vm.Send(new LifecycleCommand(VmAction.Resume)).Accepted);
        vm.RunToEnd();
        Assert.Equal(reference.Console, vm.Console);
    }

    [Fact]
    public void TrapAndEmulate_TheTargetGivesTheGuestFramesFromItsOwnPool()
    {
        var vm = SteppedVm.Boot(DemoKernel, CpuMode.TrapAndEmulate);
        vm.RunTo(400_000);
        var before = P2m(vm);

        Assert.True(vm.Migrate(MigrationMode.Live).Accepted);
        Assert.Equal(MigrationPhase.Completed, vm.FinishMigration().Phase);
        var after = P2m(vm);

        // Every guest frame the source had is on the target, in frames its pool handed out in arrival
        // order (from the top down, guest order in round 0): not the source's first-touch order.
        Assert.Subset(after.Keys.ToHashSet(), before.Keys.ToHashSet());
        Assert.NotEqual(before.Select(e => after[e.Key]), before.Values);
        var roundZero = before.Keys.Order().ToList();
        Assert.Equal(roundZero.Select(g => after[g]).ToList(), roundZero.Select(g => after[g]).OrderDescending().ToList());
        Assert.Equal((ulong)after.Count, vm.Statistics.Vmm!.MachineFramesAllocated);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void FourHarts_MigratedLive_RunOnExactlyAsUnmigrated(CpuMode mode)
    {
        var elf = GuestRun.BuiltIn("dirty-writer");
        var input = System.Text.Encoding.ASCII.GetBytes("300 4000 30\n");
        var reference = GuestRun.Run(elf, mode, vcpus: 4, inputWhenIdle: input);
        var vm = SteppedVm.Boot(elf, mode, vcpus: 4);
        vm.StepUntil(v => v.Console.Contains("ready", StringComparison.Ordinal));
        vm.Step(3);
        Assert.True(vm.Send(new ConsoleInputCommand(input)).Accepted);
        vm.RunTo(reference.Statistics.InstructionsRetired / 3);

        Assert.True(vm.Migrate(MigrationMode.Live).Accepted);
        Assert.Equal(MigrationPhase.Completed, vm.FinishMigration().Phase);

        vm.RunToEnd();
        Assert.Equal(reference.Console, vm.Console);
        Assert.Equal(reference.Statistics.InstructionsRetired, vm.Status.InstructionsRetired);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void HtifAnswerDuringPreCopy_ReachesTheTarget(CpuMode mode)
    {
        // fromhost ends the page before tohost's, so round 0 sends it before the guest's HTIF command;
        // only the board's answer then writes it, and that write must be in the dirty log.
        var elf = GuestRun.Assemble("""
            .globl _start
            _start:
                la s0, fromhost
                la s1, tohost
                li t2, 100000
            1:  addi t2, t2, -1
                bnez t2, 1b
                li t1, 0x0101000000000041
                sd t1, 0(s1)
                li t2, 200000
            2:  addi t2, t2, -1
                bnez t2, 2b
                ld a0, 0(s0)
                li t1, 1
                bnez a0, 3f
                li t1, 7
            3:  sd t1, 0(s1)
            4:  j 4b
                .data
                .align 12
                .space 4088
            fromhost: .dword 0
            tohost: .dword 0
            """);
        var vm = SteppedVm.Boot(elf, mode);
        vm.RunTo(5_000);

        Assert.True(vm.Migrate(MigrationMode.Live, link: new MigrationLink { InstructionsPerPage = 100_000, ChunkPages = 1 }).Accepted);
        Assert.Equal(MigrationPhase.Completed, vm.FinishMigration().Phase);
        vm.RunToEnd();

        Assert.Equal("A", vm.Console);
        Assert.Equal(StopReasons.GuestPowerOff, vm.Status.Reason);
        Assert.Equal(0, vm.Status.ExitCode);
    }

    private static Dictionary<ulong, ulong> P2m(SteppedVm vm)
    {
        var capture = vm.Send(new CaptureCommand(Guid.NewGuid(), SnapshotScope.Full)).Capture!.Machine!;
        return capture.State.TrapAndEmulate!.P2m.Entries.ToDictionary(e => e.GuestFrame, e => e.MachineFrame);
    }

    [Fact]
    public void TrapAndEmulate_DirtyLogOfTheShadows_NamesExactlyThePagesTheMachineStorePathSawWritten()
    {
        var spec = new VmSpec(Guid.NewGuid(), "log", DemoKernel, 1, 64, CpuMode.TrapAndEmulate, CpuProfile.Riscv, MemoryMode.Shadow, null);
        using var execution = new GuestExecutionFactory().Boot(spec, new NoConsole());
        execution.Run(100_000);
        execution.Capture(SnapshotScope.Full); // starts RAM's own log
        execution.StartDirtyLog();
        var periods = 0;
        for (var period = 0; period < 12; period++)
        {
            if (execution.Run(40_000).Outcome != GuestRunOutcome.SliceDone)
            {
                break;
            }
            var logged = execution.TakeDirtyLog();
            var stored = execution.Capture(SnapshotScope.Diff).Pages.Select(p => p.Address).ToList();
            Assert.Equal(stored, logged);
            periods++;
        }
        Assert.True(periods >= 6);
        Assert.True(execution.CaptureStatistics().Vmm!.DirtyLogFaults > 0);
    }

    private sealed class NoConsole : IConsoleOutput
    {
        public void Write(byte value)
        {
        }
    }
}
