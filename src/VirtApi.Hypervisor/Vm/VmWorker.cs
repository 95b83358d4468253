using System.Collections.Concurrent;
using VirtApi.Hypervisor.Migration;
using VirtApi.Hypervisor.Snapshots;
using VirtApi.Hypervisor.Statistics;

namespace VirtApi.Hypervisor.Vm;

/// <summary>
/// Owns one VM: its lifecycle state machine, its machine while it has one, its console and its
/// counters. Commands arrive from any thread through <see cref="SendAsync"/>; the scheduler calls
/// <see cref="RunSlice"/> from one thread at a time, and only there is the VM changed (Firecracker's
/// vCPU thread). Everything other threads may read (<see cref="Status"/>, <see cref="Statistics"/>,
/// <see cref="Console"/>) is published as immutable values or guarded by its own lock.
/// </summary>
public sealed class VmWorker
{
    private readonly ConcurrentQueue<VmCommand> _commands = new();
    private readonly IGuestExecutionFactory _executions;
    private readonly IVmEventSink _events;
    private readonly ConsoleSink _consoleSink;
    private VmSpec _spec;
    private IGuestExecution? _execution;
    private HostTimer _hostTime;
    private VmStatus _status;
    private VmStatistics _statistics = VmStatistics.Empty;
    private long _publishedConsole;
    private bool _retired;

    // The instruction count at which the VM pauses (a client's pause point), if any.
    private ulong? _pauseAt;

    // The snapshot the machine's dirty log starts from (the last captured or restored): a diff's parent.
    private Guid? _baseline;

    // The live migration in pre-copy, if one runs: the VM is Migrating and the worker interleaves its
    // chunks with the guest's slices.
    private PreCopyMigration? _migration;

    // Every hart waits for an interrupt that only outside input can raise: the VM stays running but
    // takes no scheduler time until a command (console input) arrives, like an idle real machine.
    private bool _idle;

    internal VmWorker(VmSpec spec, VmStatus initial, IGuestExecutionFactory executions, IVmEventSink events)
    {
        _spec = spec;
        _executions = executions;
        _events = events;
        _consoleSink = new ConsoleSink(Console);
        _status = initial;
    }

    /// <summary>Set by the scheduler that owns this worker; wakes it when a command arrives.</summary>
    internal VmScheduler? Scheduler { get; set; }

    /// <summary>1 while the worker is queued or running on a scheduler thread (so it is never queued twice).</summary>
    internal int Scheduled;

    public Guid Id => _spec.Id;

    /// <summary>The console output of every run of this VM.</summary>
    public ConsoleLog Console { get; } = new();

    /// <summary>The status as last published.</summary>
    public VmStatus Status => Volatile.Read(ref _status);

    /// <summary>The counters as last published (at the end of each slice).</summary>
    public VmStatistics Statistics => Volatile.Read(ref _statistics);

    internal bool HasPendingCommands => !_commands.IsEmpty;

    /// <summary>Queues <paramref name="command"/> for the worker and waits for its answer.</summary>
    public Task<VmCommandResult> SendAsync(VmCommand command)
    {
        if (Volatile.Read(ref _retired))
        {
            command.Answer(new VmCommandResult(false, Status));
            return command.Reply;
        }
        _commands.Enqueue(command);
        Scheduler?.Wake(this);
        return command.Reply;
    }

    /// <summary>
    /// Handles queued commands, then runs the guest for up to <paramref name="quantum"/> instructions
    /// if it is running. Returns whether the worker wants to run again.
    /// </summary>
    internal bool RunSlice(ulong quantum)
    {
        DrainCommands();
        if (_migration is { } migration)
        {
            StepMigration(migration, quantum);
        }
        else if (_status.State == VmState.Running && _execution is not null && !_idle)
        {
            RunGuest(quantum);
        }
        PublishConsole();
        return !_retired && ((_status.State == VmState.Running && !_idle) || _migration is not null || !_commands.IsEmpty);
    }

    /// <summary>
    /// Called by the scheduler when <see cref="RunSlice"/> threw: a fault in the VMM, not the guest.
    /// The machine is dropped and the VM is crashed with the reason, so it can be booted again;
    /// queued commands are answered from the new state.
    /// </summary>
    internal void Fault(Exception exception)
    {
        try
        {
            Release();
        }
        catch (IOException)
        {
            // The disks could not be synced; the VM is crashed either way and its files stay as they are.
        }
        SetStatus(VmState.Crashed, $"vmm-fault: {exception.GetType().Name}", null);
        EndMigration(MigrationPhase.Failed, $"the VMM faulted on the source ({exception.GetType().Name}); the VM crashed");
        DrainCommands();
    }

    private void DrainCommands()
    {
        while (_commands.TryDequeue(out var command))
        {
            VmCommandResult result;
            try
            {
                result = Handle(command);
            }
            catch
            {
                // A VMM fault: the sender is answered before the scheduler crashes the VM (Fault).
                command.Answer(new VmCommandResult(false, _status) { Refusal = "the VMM faulted while handling the command" });
                throw;
            }
            command.Answer(result);
        }
    }

    private VmCommandResult Handle(VmCommand command)
    {
        switch (command)
        {
            case LifecycleCommand { Action: var action } when _retired || !VmLifecycle.Allows(_status.State, action):
                return new VmCommandResult(false, _status);
            case LifecycleCommand { Action: VmAction.Boot or VmAction.Reboot } boot:
                Boot();
                _pauseAt = boot.PauseAt;
                return new VmCommandResult(true, _status);
            case LifecycleCommand { Action: VmAction.Pause }:
                _pauseAt = null;
                SetStatus(VmState.Paused, null, null);
                return new VmCommandResult(true, _status);
            case LifecycleCommand { Action: VmAction.Resume } resume:
                _pauseAt = resume.PauseAt;
                SetStatus(VmState.Running, null, null);
                return new VmCommandResult(true, _status);
            case LifecycleCommand { Action: VmAction.Stop }:
                Halt(VmState.Stopped, StopReasons.StopRequested, null);
                return new VmCommandResult(true, _status);
            case ConsoleInputCommand input when _execution is not null:
                _idle = false;
                return new VmCommandResult(true, _status, _execution.FeedConsole(input.Bytes));
            case ConsoleInputCommand:
                return new VmCommandResult(false, _status);
            case ReconfigureCommand reconfigure when _execution is null:
                _spec = reconfigure.Spec;
                return new VmCommandResult(true, _status);
            case ReconfigureCommand:
                return new VmCommandResult(false, _status);
            case CaptureCommand or RestoreCommand when _status.State == VmState.Migrating:
                return new VmCommandResult(false, _status) { Refusal = "the VM is migrating; wait for the migration to end or cancel it" };
            case CaptureCommand capture when !_retired:
                return Capture(capture);
            case CaptureAbandonedCommand abandoned:
                if (_baseline == abandoned.SnapshotId)
                {
                    _baseline = null;
                }
                return new VmCommandResult(true, _status);
            case RestoreCommand restore when !_retired && _status.State != VmState.Running:
                return Restore(restore);
            case CaptureCommand or RestoreCommand:
                return new VmCommandResult(false, _status);
            case MigrateCommand migrate when !_retired:
                return Migrate(migrate);
            case MigrateCommand:
                return new VmCommandResult(false, _status);
            case CancelMigrationCommand cancel when _migration?.Id == cancel.MigrationId:
                EndMigration(MigrationPhase.Cancelled, null);
                return new VmCommandResult(true, _status);
            case CancelMigrationCommand:
                return new VmCommandResult(false, _status) { Refusal = "the migration is not in pre-copy on this VM" };
            case ShutdownCommand:
                EndMigration(MigrationPhase.Cancelled, "the VM was deleted");
                if (_execution is not null)
                {
                    Halt(VmState.Stopped, StopReasons.StopRequested, null);
                }
                Volatile.Write(ref _retired, true);
                return new VmCommandResult(true, _status);
            default:
                throw new InvalidOperationException($"unknown command {command.GetType().Name}");
        }
    }

    private VmCommandResult Capture(CaptureCommand command)
    {
        if (_execution is null)
        {
            return command.Scope == SnapshotScope.Full
                ? new VmCommandResult(true, _status) { Capture = new CapturedSnapshot(null, null, _status.State) }
                : new VmCommandResult(false, _status) { Refusal = $"the VM is {CounterNames.Name(_status.State)} and has no machine state to take a diff of" };
        }
        if (command.Scope == SnapshotScope.Diff && _baseline is null)
        {
            return new VmCommandResult(false, _status)
            {
                Refusal = "the VM's current run has no snapshot to be the diff's parent (none was taken or restored since it booted, or the last one was not stored); take a full snapshot",
            };
        }
        var parent = command.Scope == SnapshotScope.Diff ? _baseline : null;
        var machine = _execution.Capture(command.Scope);
        _baseline = command.SnapshotId;
        return new VmCommandResult(true, _status) { Capture = new CapturedSnapshot(machine, parent, _status.State) };
    }

    private VmCommandResult Restore(RestoreCommand command)
    {
        PublishConsole();
        var consoleStart = Console.Written;
        if (command.State is null)
        {
            // A snapshot of a VM without a machine: the VM ends up as it was then, stopped.
            if (_execution is not null)
            {
                Halt(VmState.Stopped, StopReasons.SnapshotRestored, null);
            }
            else
            {
                SetStatus(VmState.Stopped, StopReasons.SnapshotRestored, null, consoleStart);
            }
            _baseline = null;
            return new VmCommandResult(true, _status);
        }
        IGuestExecution restored;
        try
        {
            restored = _executions.Restore(_spec, command.State, command.Pages, _consoleSink);
        }
        catch (SnapshotFormatException exception)
        {
            return new VmCommandResult(false, _status) { Refusal = exception.Message };
        }
        Release();
        _execution = restored;
        _idle = false;
        _pauseAt = null;
        _hostTime = default;
        _baseline = command.SnapshotId;
        Volatile.Write(ref _statistics, restored.CaptureStatistics());
        SetStatus(VmState.Paused, StopReasons.SnapshotRestored, null, consoleStart);
        return new VmCommandResult(true, _status);
    }

    private void Boot()
    {
        PublishConsole();
        var consoleStart = Console.Written;
        _hostTime = default;
        Release();
        _execution = _executions.Boot(_spec, _consoleSink);
        _idle = false;
        _baseline = null;
        _statistics = VmStatistics.Empty;
        SetStatus(VmState.Running, null, null, consoleStart);
    }

    private void RunGuest(ulong quantum)
    {
        var execution = _execution!;
        var budget = _spec.InstructionBudget;
        var slice = quantum;
        if (_pauseAt is { } pausePoint)
        {
            var done = execution.InstructionsRetired;
            if (done >= pausePoint)
            {
                // Resumed with a pause point already passed: pause again at once.
                PausePointReached();
                return;
            }
            slice = Math.Min(slice, pausePoint - done);
        }
        if (budget is { } limit)
        {
            var retired = execution.InstructionsRetired;
            if (retired >= limit)
            {
                Halt(VmState.Stopped, StopReasons.InstructionBudget, null);
                return;
            }
            slice = Math.Min(slice, limit - retired);
        }

        var started = HostTimer.Start();
        var result = execution.Run(slice);
        _hostTime.Stop(started);

        switch (result.Outcome)
        {
            case GuestRunOutcome.PoweredOff:
                Halt(VmState.Stopped, StopReasons.GuestPowerOff, result.ExitCode);
                break;
            case GuestRunOutcome.Reset:
                Halt(VmState.Stopped, StopReasons.GuestReset, null);
                break;
            case GuestRunOutcome.Idle:
                _idle = true;
                PublishProgress();
                break;
            case GuestRunOutcome.Crashed:
                Halt(VmState.Crashed, result.Reason ?? "crashed", null);
                break;
            default:
                if (budget is { } b && execution.InstructionsRetired >= b)
                {
                    Halt(VmState.Stopped, StopReasons.InstructionBudget, null);
                }
                else if (_pauseAt is { } p && execution.InstructionsRetired >= p)
                {
                    PublishProgress();
                    PausePointReached();
                }
                else
                {
                    PublishProgress();
                }
                break;
        }
    }

    /// <summary>The guest reached its pause point: it pauses, or during pre-copy it is held (the VM stays migrating and lands paused).</summary>
    private void PausePointReached()
    {
        _pauseAt = null;
        if (_migration is { } migration)
        {
            migration.GuestHeld = true;
            return;
        }
        SetStatus(VmState.Paused, StopReasons.PausePoint, null);
    }

    private VmCommandResult Migrate(MigrateCommand command)
    {
        var plan = command.Plan;
        var observer = new PublishingObserver(command.Observer, _events, Id);
        if (VmLifecycle.MigrationRefusal(_status.State, plan.Mode) is { } refusal)
        {
            return new VmCommandResult(false, _status) { Refusal = refusal };
        }
        // The dirty log a diff snapshot would follow is the migration's now, and the target starts a new one.
        _baseline = null;
        if (_execution is null)
        {
            // No machine (created, stopped, crashed): only the definition moves.
            _spec = plan.Target;
            observer.Ended(plan.MigrationId, new MigrationReport(MigrationPhase.Completed, [], new MigrationStopAndCopy(0, 0, 0, 0), 0, null, _status));
            return new VmCommandResult(true, _status);
        }
        var target = _executions.PrepareTarget(plan.Target, plan.TargetFrames);
        if (plan.Mode == MigrationMode.Live)
        {
            _migration = PreCopyMigration.Start(plan, observer, target, _execution);
            SetStatus(VmState.Migrating, null, null);
            return new VmCommandResult(true, _status);
        }
        // Cold: the guest is paused, so the whole move is one stop-and-copy of every touched page.
        observer.PhaseChanged(plan.MigrationId, MigrationPhase.StopAndCopy);
        var channel = new MigrationChannel(_execution, target, plan.Link);
        var arrived = PreCopyMigration.Move(channel, _execution.TouchedPages(), _consoleSink, out var downtime, out var error);
        if (arrived is null)
        {
            target.Dispose();
            observer.Ended(plan.MigrationId, new MigrationReport(MigrationPhase.Failed, [], null, channel.PagesSent, error, _status));
            return new VmCommandResult(true, _status);
        }
        SwitchTo(arrived, plan.Target);
        SetStatus(VmState.Paused, StopReasons.Migrated, null);
        observer.Ended(plan.MigrationId, new MigrationReport(MigrationPhase.Completed, [], downtime, channel.PagesSent, null, _status));
        return new VmCommandResult(true, _status);
    }

    /// <summary>One step of pre-copy: the guest runs for the time the last chunk takes on the link, or the next chunk is sent.</summary>
    private void StepMigration(PreCopyMigration migration, ulong quantum)
    {
        var execution = _execution!;
        if (_idle || migration.GuestHeld)
        {
            migration.GuestWaits();
        }
        if (migration.InstructionsUntilNextChunk > 0)
        {
            var before = execution.InstructionsRetired;
            RunGuest(Math.Min(quantum, migration.InstructionsUntilNextChunk));
            if (_migration is not null)
            {
                migration.GuestRan(execution.InstructionsRetired - before);
            }
            return;
        }
        if (!migration.Step(execution, out var stopAndCopy, out var error))
        {
            EndMigration(MigrationPhase.Failed, error);
            return;
        }
        if (!stopAndCopy)
        {
            return;
        }
        var arrived = migration.StopAndCopy(execution, _consoleSink, out var downtime, out error);
        if (arrived is null)
        {
            EndMigration(MigrationPhase.Failed, error);
            return;
        }
        _migration = null;
        SwitchTo(arrived, migration.Plan.Target);
        GoOn(migration.GuestHeld);
        migration.Observer.Ended(migration.Id, migration.Report(MigrationPhase.Completed, downtime, null, _status));
    }

    /// <summary>After a live migration ends, moved or not: the VM runs, or stays paused if its pause point held it during pre-copy.</summary>
    private void GoOn(bool heldAtPausePoint)
    {
        if (heldAtPausePoint)
        {
            SetStatus(VmState.Paused, StopReasons.PausePoint, null);
        }
        else
        {
            SetStatus(VmState.Running, null, null);
        }
    }

    /// <summary>The VM continues on the target: the source's machine (and its frames) is released only now that the target has it.</summary>
    private void SwitchTo(IGuestExecution arrived, VmSpec spec)
    {
        try
        {
            Release();
        }
        catch (IOException)
        {
            // The source's disks could not be synced as it let go of them. The target has them open and
            // writes through, so the move stands; the VM is not crashed for the source's leftovers.
        }
        _execution = arrived;
        _spec = spec;
        _idle = false;
        PublishStatistics();
    }

    /// <summary>
    /// Ends a pre-copy without moving the VM (cancelled, failed, or the guest stopped): the target's frames
    /// are given back and the VM goes on on the source as it was.
    /// </summary>
    private void EndMigration(MigrationPhase phase, string? error)
    {
        if (_migration is not { } migration)
        {
            return;
        }
        _migration = null;
        migration.Target.Dispose();
        _execution?.StopDirtyLog();
        if (_status.State == VmState.Migrating)
        {
            GoOn(migration.GuestHeld);
        }
        migration.Observer.Ended(migration.Id, migration.Report(phase, null, error, _status));
    }

    /// <summary>Drops the machine: its disks are synced to their files and closed (a VM's data is durable once it stops).</summary>
    private void Release()
    {
        var execution = _execution;
        _execution = null;
        execution?.Dispose();
    }

    /// <summary>Ends the run: the last counters are kept, the machine is released.</summary>
    private void Halt(VmState state, string reason, int? exitCode)
    {
        // Output the guest wrote before it stopped is published before the state change, so a
        // client following the event stream sees the whole transcript, then the end.
        PublishConsole();
        PublishStatistics();
        Release();
        _baseline = null;
        _pauseAt = null;
        SetStatus(state, reason, exitCode);
        EndMigration(MigrationPhase.Failed, $"the guest stopped during pre-copy ({reason}); the VM is {CounterNames.Name(state)} on the source");
    }

    private void PublishProgress()
    {
        PublishStatistics();
        var status = _status with { InstructionsRetired = _execution!.InstructionsRetired };
        Volatile.Write(ref _status, status);
    }

    private void PublishStatistics()
    {
        if (_execution is not null)
        {
            Volatile.Write(ref _statistics, _execution.CaptureStatistics() with { HostSecondsRunning = _hostTime.Seconds });
        }
    }

    private void SetStatus(VmState state, string? reason, int? exitCode, long? consoleStart = null)
    {
        var previous = _status;
        var status = new VmStatus(
            state,
            reason,
            exitCode,
            _execution?.InstructionsRetired ?? _statistics.InstructionsRetired,
            consoleStart ?? previous.ConsoleStart,
            previous.Sequence + 1);
        Volatile.Write(ref _status, status);
        _events.Publish(new VmStateChanged(Id, status));
    }

    private void PublishConsole()
    {
        var written = Console.Written;
        if (written > _publishedConsole)
        {
            var chunk = Console.Read(_publishedConsole, (int)Math.Min(int.MaxValue, written - _publishedConsole));
            _publishedConsole = chunk.Next;
            _events.Publish(new VmConsoleOutput(Id, chunk.Offset, chunk.Bytes));
        }
    }

    /// <summary>Tells the VM's event stream of a migration's progress as well as the control plane's observer.</summary>
    private sealed class PublishingObserver(IMigrationObserver observer, IVmEventSink events, Guid vmId) : IMigrationObserver
    {
        public void PhaseChanged(Guid migrationId, MigrationPhase phase)
        {
            observer.PhaseChanged(migrationId, phase);
            events.Publish(new VmMigrationProgress(vmId, migrationId, phase));
        }

        public void RoundCompleted(Guid migrationId, MigrationRound round)
        {
            observer.RoundCompleted(migrationId, round);
            events.Publish(new VmMigrationProgress(vmId, migrationId, MigrationPhase.PreCopy, round));
        }

        public void Ended(Guid migrationId, MigrationReport report)
        {
            observer.Ended(migrationId, report);
            events.Publish(new VmMigrationProgress(vmId, migrationId, report.Phase, Error: report.Error));
        }
    }

    /// <summary>Collects the guest's UART bytes into the console log.</summary>
    private sealed class ConsoleSink(ConsoleLog log) : IConsoleOutput
    {
        public void Write(byte value) => log.Append(value);
    }
}
