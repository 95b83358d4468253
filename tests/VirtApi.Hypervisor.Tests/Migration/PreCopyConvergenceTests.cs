using VirtApi.Hypervisor.Migration;
using VirtApi.Hypervisor.Techniques;
using VirtApi.Hypervisor.Vm;

namespace VirtApi.Hypervisor.Tests.Migration;

/// <summary>
/// Pre-copy against the built-in <c>dirty-writer</c>, whose write rate the test sets (21 + 2·D guest
/// instructions per page write, against the link's 100 per page sent): the rounds follow Clark et al.'s
/// rules, the totals add up, and the guest's final memory checksum is the unmigrated run's.
/// </summary>
public sealed class PreCopyConvergenceTests
{
    private static readonly byte[] DirtyWriter = GuestRun.BuiltIn("dirty-writer");

    public static TheoryData<CpuMode> Modes => [CpuMode.Native, CpuMode.TrapAndEmulate];

    private static string Unmigrated(CpuMode mode, string input)
    {
        var outcome = GuestRun.Run(DirtyWriter, mode, inputWhenIdle: System.Text.Encoding.ASCII.GetBytes(input));
        Assert.Equal(GuestRunOutcome.PoweredOff, outcome.Result.Outcome);
        Assert.Contains("dirty-writer: checksum 0x", outcome.Console);
        return outcome.Console;
    }

    private static SteppedVm WritingVm(CpuMode mode, string input, ulong runTo)
    {
        var vm = SteppedVm.Boot(DirtyWriter, mode);
        vm.StepUntil(v => v.Console.Contains("ready", StringComparison.Ordinal));
        vm.Type(input);
        vm.RunTo(runTo);
        Assert.Equal(VmState.Running, vm.Status.State);
        return vm;
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void IdleGuest_ConvergesInAtMostTwoRounds_AndRunsOnTheTargetWhenInputArrives(CpuMode mode)
    {
        const string Input = "256 3000 5\n";
        var reference = Unmigrated(mode, Input);
        var vm = SteppedVm.Boot(DirtyWriter, mode);
        vm.StepUntil(v => v.Console.Contains("ready", StringComparison.Ordinal));
        vm.Step(3); // every hart now waits in wfi for the console

        Assert.True(vm.Migrate(MigrationMode.Live).Accepted);
        var report = vm.FinishMigration();

        Assert.Equal(MigrationPhase.Completed, report.Phase);
        Assert.InRange(report.Rounds.Count, 1, 2);
        Assert.Equal(0, report.StopAndCopy!.PagesSent);
        vm.Type(Input);
        vm.RunToEnd();
        Assert.Equal(reference, vm.Console);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void SlowWriter_ConvergesBelowStopCopyPages_AndItsChecksumSurvives(CpuMode mode)
    {
        // 4021 instructions per write: a round dirties about 1/40 of the pages it sends.
        const string Input = "2048 2000 2000\n";
        var reference = Unmigrated(mode, Input);
        var vm = WritingVm(mode, Input, 200_000);

        Assert.True(vm.Migrate(MigrationMode.Live, stopCopyPages: 50).Accepted);
        var report = vm.FinishMigration();

        Assert.Equal(MigrationPhase.Completed, report.Phase);
        Assert.Equal(2, report.Rounds.Count);
        Assert.True(report.Rounds[0].PagesSent >= 2048);
        Assert.InRange(report.Rounds[1].PagesDirtied, 0, 50);
        AssertTotalsAddUp(report);
        vm.RunToEnd();
        Assert.Equal(reference, vm.Console);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void FastWriter_RunsToMaxRounds_ThenStopAndCopyMovesTheRest(CpuMode mode)
    {
        // 101 instructions per write against 100 per page sent: each round dirties a little fewer pages
        // than it sent, never few enough to stop early.
        const string Input = "4096 60000 40\n";
        var reference = Unmigrated(mode, Input);
        var vm = WritingVm(mode, Input, 100_000);

        Assert.True(vm.Migrate(MigrationMode.Live, maxRounds: 5, stopCopyPages: 50).Accepted);
        var report = vm.FinishMigration();

        Assert.Equal(MigrationPhase.Completed, report.Phase);
        Assert.Equal(5, report.Rounds.Count);
        for (var i = 1; i < report.Rounds.Count; i++)
        {
            // Each round sends what the one before left dirty, and that set shrinks but stays large.
            Assert.Equal(report.Rounds[i - 1].PagesDirtied, report.Rounds[i].PagesSent);
            Assert.True(report.Rounds[i].PagesDirtied < report.Rounds[i].PagesSent);
            Assert.True(report.Rounds[i].PagesDirtied > 50);
        }
        Assert.Equal(report.Rounds[^1].PagesDirtied, report.StopAndCopy!.PagesSent);
        AssertTotalsAddUp(report);
        vm.RunToEnd();
        Assert.Equal(reference, vm.Console);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void WriterFasterThanTheLink_StopsWhenTheDirtySetNoLongerShrinks(CpuMode mode)
    {
        // 21 instructions per write: a round dirties every page of the working set.
        const string Input = "512 200000 0\n";
        var reference = Unmigrated(mode, Input);
        var vm = WritingVm(mode, Input, 50_000);

        Assert.True(vm.Migrate(MigrationMode.Live, maxRounds: 30, stopCopyPages: 50).Accepted);
        var report = vm.FinishMigration();

        Assert.Equal(MigrationPhase.Completed, report.Phase);
        Assert.InRange(report.Rounds.Count, 1, 3);
        Assert.True(report.Rounds[^1].PagesDirtied >= report.Rounds[^1].PagesSent);
        Assert.True(report.StopAndCopy!.PagesSent >= 512);
        AssertTotalsAddUp(report);
        vm.RunToEnd();
        Assert.Equal(reference, vm.Console);
    }

    private static void AssertTotalsAddUp(MigrationReport report)
    {
        Assert.Equal(report.Rounds.Sum(r => (long)r.PagesSent) + report.StopAndCopy!.PagesSent, report.TotalPagesSent);
        var link = new MigrationLink();
        Assert.All(report.Rounds, r => Assert.Equal((ulong)r.PagesSent * link.InstructionsPerPage, r.LinkInstructions));
    }
}
