using System.Collections.Concurrent;

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
        if (_status.State == VmState.Running && _execution is not null && !_idle)
        {
            RunGuest(quantum);
        }
        PublishConsole();
        return !_retired && ((_status.State == VmState.Running && !_idle) || !_commands.IsEmpty);
    }

    /// <summary>
    /// Called by the scheduler when <see cref="RunSlice"/> threw: a fault in the VMM, not the guest.
    /// The machine is dropped and the VM is crashed with the reason, so it can be booted again;
    /// queued commands are answered from the new state.
    /// </summary>
    internal void Fault(Exception exception)
    {
        _execution = null;
        SetStatus(VmState.Crashed, $"vmm-fault: {exception.GetType().Name}", null);
        DrainCommands();
    }

    private void DrainCommands()
    {
        while (_commands.TryDequeue(out var command))
        {
            command.Answer(Handle(command));
        }
    }

    private VmCommandResult Handle(VmCommand command)
    {
        switch (command)
        {
            case LifecycleCommand { Action: var action } when _retired || !VmLifecycle.Allows(_status.State, action):
                return new VmCommandResult(false, _status);
            case LifecycleCommand { Action: VmAction.Boot or VmAction.Reboot }:
                Boot();
                return new VmCommandResult(true, _status);
            case LifecycleCommand { Action: VmAction.Pause }:
                SetStatus(VmState.Paused, null, null);
                return new VmCommandResult(true, _status);
            case LifecycleCommand { Action: VmAction.Resume }:
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
            case ShutdownCommand:
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

    private void Boot()
    {
        PublishConsole();
        var consoleStart = Console.Written;
        _hostTime = default;
        _execution = _executions.Boot(_spec, _consoleSink);
        _idle = false;
        _statistics = VmStatistics.Empty;
        SetStatus(VmState.Running, null, null, consoleStart);
    }

    private void RunGuest(ulong quantum)
    {
        var execution = _execution!;
        var budget = _spec.InstructionBudget;
        var slice = quantum;
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
                else
                {
                    PublishProgress();
                }
                break;
        }
    }

    /// <summary>Ends the run: the last counters are kept, the machine is released.</summary>
    private void Halt(VmState state, string reason, int? exitCode)
    {
        // Output the guest wrote before it stopped is published before the state change, so a
        // client following the event stream sees the whole transcript, then the end.
        PublishConsole();
        PublishStatistics();
        _execution = null;
        SetStatus(state, reason, exitCode);
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

    /// <summary>Collects the guest's UART bytes into the console log.</summary>
    private sealed class ConsoleSink(ConsoleLog log) : IConsoleOutput
    {
        public void Write(byte value) => log.Append(value);
    }
}
