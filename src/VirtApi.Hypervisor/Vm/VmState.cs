namespace VirtApi.Hypervisor.Vm;

/// <summary>
/// The VM life cycle (DESIGN.md "API contract"): created → running ⇄ paused; running/paused → stopped;
/// stopped → running; a guest power-off → stopped; a guest that cannot go on → crashed;
/// migrating while a live migration runs.
/// </summary>
public enum VmState
{
    Created,
    Running,
    Paused,
    Stopped,
    Crashed,
    Migrating,
}

/// <summary>The lifecycle actions a client can ask for.</summary>
public enum VmAction
{
    Boot,
    Pause,
    Resume,
    Stop,
    Reboot,
}

/// <summary>Which action each state allows: the single table both the worker and the API's 409 answers use.</summary>
public static class VmLifecycle
{
    public static IReadOnlyList<VmAction> AllowedActions(VmState state) => state switch
    {
        VmState.Created => [VmAction.Boot],
        VmState.Running => [VmAction.Pause, VmAction.Stop, VmAction.Reboot],
        VmState.Paused => [VmAction.Resume, VmAction.Stop, VmAction.Reboot],
        VmState.Stopped => [VmAction.Boot],
        VmState.Crashed => [VmAction.Boot],
        VmState.Migrating => [],
        _ => [],
    };

    public static bool Allows(VmState state, VmAction action) => AllowedActions(state).Contains(action);
}
