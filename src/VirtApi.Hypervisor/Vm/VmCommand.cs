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
public sealed record LifecycleCommand(VmAction Action) : VmCommand;

/// <summary>Bytes for the guest's UART receive FIFO; allowed while the VM has a machine (running or paused).</summary>
public sealed record ConsoleInputCommand(byte[] Bytes) : VmCommand;

/// <summary>A new definition (after PATCH); allowed only while the VM has no machine.</summary>
public sealed record ReconfigureCommand(VmSpec Spec) : VmCommand;

/// <summary>Stops the VM if it runs and retires the worker (DELETE).</summary>
public sealed record ShutdownCommand : VmCommand;

/// <summary>The worker's answer.</summary>
/// <param name="Accepted">False when the state did not allow the command.</param>
/// <param name="Status">The VM's status after the command.</param>
/// <param name="BytesAccepted">For console input: how many bytes the receive FIFO took.</param>
public sealed record VmCommandResult(bool Accepted, VmStatus Status, int BytesAccepted = 0);

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
}
