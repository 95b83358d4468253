using System.Text;
using VirtApi.Hypervisor.Devices;
using VirtApi.Hypervisor.Migration;
using VirtApi.Hypervisor.Techniques;
using VirtApi.Hypervisor.Vm;

namespace VirtApi.Hypervisor.Tests.Migration;

/// <summary>
/// A VM's real worker stepped slice by slice on the test's thread (no scheduler threads), so a migration's
/// rounds, a cancel between two chunks and the guest's output are the same on every run. It is also the
/// migration's observer.
/// </summary>
internal sealed class SteppedVm : IMigrationObserver
{
    private readonly VmWorker _worker;

    private SteppedVm(VmSpec spec, IGuestExecutionFactory factory, ulong quantum)
    {
        Spec = spec;
        Quantum = quantum;
        _worker = new VmWorker(spec, new VmStatus(VmState.Created, null, null, 0, 0, 0), factory, new NoEvents());
    }

    public VmSpec Spec { get; }

    public ulong Quantum { get; }

    public List<MigrationPhase> Phases { get; } = [];

    public List<MigrationRound> Rounds { get; } = [];

    public MigrationReport? Report { get; private set; }

    /// <summary>The plan of the last migration started.</summary>
    public MigrationPlan? LastPlan { get; private set; }

    public VmStatus Status => _worker.Status;

    public VmStatistics Statistics => _worker.Statistics;

    public string Console => Encoding.ASCII.GetString(_worker.Console.Read(0, (int)_worker.Console.Written).Bytes);

    public static SteppedVm Boot(
        byte[] elf, CpuMode mode, int memoryMiB = 64, ulong budget = 400_000_000, ulong quantum = 10_000, int vcpus = 1, IReadOnlyList<VmDeviceSpec>? devices = null)
    {
        var memory = mode == CpuMode.Native ? MemoryMode.Direct : MemoryMode.Shadow;
        var spec = new VmSpec(Guid.NewGuid(), "migrating", elf, vcpus, memoryMiB, mode, CpuProfile.Riscv, memory, budget, devices);
        var vm = new SteppedVm(spec, new GuestExecutionFactory(), quantum);
        Assert.True(vm.Send(new LifecycleCommand(VmAction.Boot)).Accepted);
        return vm;
    }

    /// <summary>Sends a command and steps the worker once so it is answered.</summary>
    public VmCommandResult Send(VmCommand command)
    {
        var reply = _worker.SendAsync(command);
        _worker.RunSlice(Quantum);
        Assert.True(reply.IsCompleted);
        return reply.Result;
    }

    public void Type(string line) => Assert.True(Send(new ConsoleInputCommand(Encoding.ASCII.GetBytes(line))).Accepted);

    /// <summary>Runs <paramref name="slices"/> worker slices.</summary>
    public void Step(int slices)
    {
        for (var i = 0; i < slices; i++)
        {
            _worker.RunSlice(Quantum);
        }
    }

    /// <summary>Steps until <paramref name="done"/> holds; fails after <paramref name="maxSlices"/>.</summary>
    public void StepUntil(Func<SteppedVm, bool> done, int maxSlices = 2_000_000)
    {
        for (var i = 0; i < maxSlices; i++)
        {
            if (done(this))
            {
                return;
            }
            _worker.RunSlice(Quantum);
        }
        Assert.Fail($"not done after {maxSlices} slices; the VM is {Status.State} at {Status.InstructionsRetired} instructions");
    }

    /// <summary>Runs the guest until it has retired at least <paramref name="instructions"/>.</summary>
    public void RunTo(ulong instructions) => StepUntil(vm => vm.Status.InstructionsRetired >= instructions || vm.Status.State != VmState.Running);

    /// <summary>Runs until the VM stops (powers off, budget, crash).</summary>
    public void RunToEnd() => StepUntil(vm => vm.Status.State is VmState.Stopped or VmState.Crashed);

    /// <summary>Starts a migration to a target with the VM's own definition.</summary>
    public VmCommandResult Migrate(MigrationMode mode, int maxRounds = 30, int stopCopyPages = 50, ulong? targetFrames = null, MigrationLink? link = null, VmSpec? target = null)
    {
        Report = null;
        Phases.Clear();
        Rounds.Clear();
        target ??= Spec with { HostType = HypervisorType.BareMetal };
        LastPlan = new MigrationPlan(Guid.NewGuid(), mode, target, maxRounds, stopCopyPages, targetFrames ?? ((ulong)Spec.MemoryMiB << 8), link ?? new MigrationLink());
        return Send(new MigrateCommand(LastPlan, this));
    }

    /// <summary>Steps until the migration has ended.</summary>
    public MigrationReport FinishMigration()
    {
        StepUntil(vm => vm.Report is not null);
        return Report!;
    }

    public void PhaseChanged(Guid migrationId, MigrationPhase phase) => Phases.Add(phase);

    public void RoundCompleted(Guid migrationId, MigrationRound round) => Rounds.Add(round);

    public void Ended(Guid migrationId, MigrationReport report) => Report = report;

    private sealed class NoEvents : IVmEventSink
    {
        public void Publish(VmEvent vmEvent)
        {
        }
    }
}
