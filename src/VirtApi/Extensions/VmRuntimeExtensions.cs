using Microsoft.Extensions.Options;
using VirtApi.Hypervisor.Statistics;
using VirtApi.Hypervisor.Techniques;
using VirtApi.Hypervisor.Vm;
using VirtApi.Runtime;
using VirtApi.Snapshots;
using VirtApi.VmMigration;

namespace VirtApi.Extensions;

internal static class VmRuntimeExtensions
{
    /// <summary>The scheduler, the VM workers' supervisor, the event hub, the state and migration recorders and the snapshot store.</summary>
    public static WebApplicationBuilder AddVmRuntime(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SchedulerOptions>()
            .BindConfiguration(SchedulerOptions.Section)
            .Validate(o => o.QuantumInstructions is >= 1_000 and <= 100_000_000, "Scheduler:QuantumInstructions must be between 1000 and 100000000")
            .Validate(o => o.Threads >= 0, "Scheduler:Threads must be 0 (one per core) or more")
            .ValidateOnStart();
        builder.Services.AddOptions<CostModel>().BindConfiguration("CostModel");
        builder.Services.AddSingleton<IGuestExecutionFactory>(services => new GuestExecutionFactory(services.GetRequiredService<IOptions<CostModel>>().Value));
        builder.Services.AddSingleton<VmEventHub>();
        builder.Services.AddSingleton<VmSupervisor>();
        builder.Services.AddHostedService(services => services.GetRequiredService<VmSupervisor>());
        builder.Services.AddHostedService<VmStateRecorder>();
        builder.Services.AddSingleton<SnapshotStore>();
        builder.Services.AddOptions<MigrationOptions>()
            .BindConfiguration(MigrationOptions.Section)
            .Validate(o => o.InstructionsPerPage is >= 1 and <= 1_000_000_000_000, "Migration:InstructionsPerPage must be between 1 and 1000000000000")
            .Validate(o => o.ChunkPages is >= 1 and <= 65_536, "Migration:ChunkPages must be between 1 and 65536")
            .Validate(o => o.DefaultMaxRounds is >= 1 and <= MigrationRules.MaxRounds, $"Migration:DefaultMaxRounds must be between 1 and {MigrationRules.MaxRounds}")
            .Validate(o => o.DefaultStopCopyPages is >= 0 and <= MigrationRules.MaxStopCopyPages, $"Migration:DefaultStopCopyPages must be between 0 and {MigrationRules.MaxStopCopyPages}")
            .ValidateOnStart();
        builder.Services.AddSingleton<MigrationRecorder>();
        builder.Services.AddHostedService(services => services.GetRequiredService<MigrationRecorder>());
        return builder;
    }
}
