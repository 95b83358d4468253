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

    /// <summary>
    /// Whether the state allows a migration in <paramref name="mode"/> (DESIGN.md "Migration"): live moves
    /// a running VM; cold one that does not run (created, paused, stopped, crashed).
    /// </summary>
    public static bool AllowsMigration(VmState state, Migration.MigrationMode mode) =>
        mode == Migration.MigrationMode.Live ? state == VmState.Running : state is not (VmState.Running or VmState.Migrating);

    /// <summary>Why the state does not allow a migration in <paramref name="mode"/>, in words a client acts on; null when it does.</summary>
    public static string? MigrationRefusal(VmState state, Migration.MigrationMode mode) => AllowsMigration(state, mode)
        ? null
        : state == VmState.Migrating
            ? "it is migrating; wait for the migration to end or cancel it"
            : mode == Migration.MigrationMode.Live
                ? $"it is {Statistics.CounterNames.Name(state)}; a live migration needs a running VM (migrate it cold instead)"
                : "it is running; a cold migration needs a VM that is not running (pause or stop it first, or migrate it live)";
}
