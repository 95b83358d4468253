using VirtApi.Hypervisor.Migration;
using VirtApi.Hypervisor.Snapshots;

namespace VirtApi.Hypervisor.Vm;

/// <summary>
/// What the control plane may ask of a VM's worker (Firecracker's <c>VmmAction</c>): a closed set.
/// Endpoints send one and await the <see cref="VmCommandResult"/>; only the worker changes the VM.
/// </summary>
public abstract record VmCommand
{
    private readonly TaskCompletionSource<VmCommandResult> _reply = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal Task<VmCommandResult> Reply => _reply.Task;

    internal void Answer(VmCommandResult result) => _reply.TrySetResult(result);
}

/// <summary>Boot, pause, resume, stop or reboot; refused unless <see cref="VmLifecycle.Allows"/> says the state allows it.</summary>
/// <param name="Action">What to do.</param>
/// <param name="PauseAt">
/// For boot, reboot and resume: the VM pauses (reason <see cref="StopReasons.PausePoint"/>) when its
/// harts have retired this many instructions in all, exactly, whatever the scheduler's slices.
/// </param>
public sealed record LifecycleCommand(VmAction Action, ulong? PauseAt = null) : VmCommand;

/// <summary>Bytes for the guest's UART receive FIFO; allowed while the VM has a machine (running or paused).</summary>
public sealed record ConsoleInputCommand(byte[] Bytes) : VmCommand;

/// <summary>A new definition (after PATCH); allowed only while the VM has no machine.</summary>
public sealed record ReconfigureCommand(VmSpec Spec) : VmCommand;

/// <summary>Stops the VM if it runs and retires the worker (DELETE).</summary>
public sealed record ShutdownCommand : VmCommand;

/// <summary>
/// Captures the VM for snapshot <paramref name="SnapshotId"/> (DESIGN.md "Snapshots"). A running VM is
/// captured between two slices (an instruction boundary) and runs on; a paused one as it is; one with
/// no machine (created, stopped, crashed) gives a capture without machine state. A diff's parent is the
/// snapshot the machine was last captured for or restored from; without one it is refused.
/// </summary>
public sealed record CaptureCommand(Guid SnapshotId, SnapshotScope Scope) : VmCommand;

/// <summary>
/// The capture for <paramref name="SnapshotId"/> was not stored: the dirty log it started matches no
/// snapshot, so the next diff is refused until a full snapshot is taken.
/// </summary>
public sealed record CaptureAbandonedCommand(Guid SnapshotId) : VmCommand;

/// <summary>
/// Replaces the VM's machine with the one snapshot <paramref name="SnapshotId"/> saved (restore, or a
/// clone's first state); refused while the VM runs. Afterwards the VM is paused at the saved point, or
/// stopped if the snapshot holds no machine. A state that does not fit the VM is refused and nothing changes.
/// </summary>
public sealed record RestoreCommand(Guid SnapshotId, VmSnapshotState? State, IReadOnlyList<GuestPage> Pages) : VmCommand;

/// <summary>
/// Moves the VM to another host (DESIGN.md "Migration"). Live: allowed while the VM runs; the VM is
/// <see cref="VmState.Migrating"/> during pre-copy and stop-and-copy, and runs on the target after.
/// Cold: allowed while it does not run (created, paused, stopped, crashed); a paused VM's machine moves
/// whole and it stays paused. The answer comes at once; progress and the end go to
/// <paramref name="Observer"/>. On failure or cancel the VM is as it was, on the source.
/// </summary>
public sealed record MigrateCommand(MigrationPlan Plan, IMigrationObserver Observer) : VmCommand;

/// <summary>Cancels migration <paramref name="MigrationId"/>; accepted only during pre-copy.</summary>
public sealed record CancelMigrationCommand(Guid MigrationId) : VmCommand;

/// <summary>The worker's answer.</summary>
/// <param name="Accepted">False when the state did not allow the command.</param>
/// <param name="Status">The VM's status after the command.</param>
/// <param name="BytesAccepted">For console input: how many bytes the receive FIFO took.</param>
public sealed record VmCommandResult(bool Accepted, VmStatus Status, int BytesAccepted = 0)
{
    /// <summary>For an accepted capture: what was captured.</summary>
    public CapturedSnapshot? Capture { get; init; }

    /// <summary>Why the command was refused, when the VM's state alone does not say.</summary>
    public string? Refusal { get; init; }
}

/// <summary>An accepted capture.</summary>
/// <param name="Machine">The machine's state and pages; null when the VM had no machine.</param>
/// <param name="Parent">A diff's parent snapshot.</param>
/// <param name="State">The VM's state when it was captured.</param>
public sealed record CapturedSnapshot(VmCapture? Machine, Guid? Parent, VmState State);

/// <summary>What the worker last published about a VM: safe to read from any thread.</summary>
/// <param name="State">The lifecycle state.</param>
/// <param name="Reason">Why it is in the state (<see cref="StopReasons"/>).</param>
/// <param name="ExitCode">The guest's exit code after a power-off.</param>
/// <param name="InstructionsRetired">Instructions retired by all harts in the current or last run.</param>
/// <param name="ConsoleStart">Console offset where the current or last run's output starts.</param>
/// <param name="Sequence">Grows with every change, so consumers apply changes in order.</param>
public sealed record VmStatus(VmState State, string? Reason, int? ExitCode, ulong InstructionsRetired, long ConsoleStart, long Sequence);

/// <summary>The stable reason strings of <see cref="VmStatus.Reason"/>.</summary>
public static class StopReasons
{
    public const string GuestPowerOff = "guest-power-off";
    public const string GuestReset = "guest-reset";
    public const string InstructionBudget = "instruction-budget";
    public const string StopRequested = "stop-requested";
    public const string HostRestart = "host-restart";
    public const string PausePoint = "pause-point";
    public const string SnapshotRestored = "snapshot-restored";
    public const string Migrated = "migrated";
}
