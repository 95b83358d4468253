using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using VirtApi.Hypervisor.Vm;
using VirtApi.Persistence.Entities;

namespace VirtApi.Runtime;

/// <summary>The <c>Scheduler</c> section of <c>appsettings.json</c>.</summary>
public sealed class SchedulerOptions
{
    public const string Section = "Scheduler";

    /// <summary>Worker threads; 0 = one per core. Never more than the cores.</summary>
    public int Threads { get; set; }

    /// <summary>Instructions a VM runs before the next VM's turn (stop and delete take effect within one).</summary>
    public ulong QuantumInstructions { get; set; } = 100_000;
}

/// <summary>
/// The bridge from the API to running VMs (Firecracker's API-server adapter): owns the scheduler and
/// one worker per VM that has been booted. Endpoints get a worker here and send it commands; they
/// never touch a machine.
/// </summary>
public sealed partial class VmSupervisor : IHostedService, IDisposable
{
    private readonly ConcurrentDictionary<Guid, VmWorker> _workers = new();
    private readonly VmScheduler _scheduler;
    private readonly VmEventHub _hub;
    private readonly IGuestExecutionFactory _executions;

    public VmSupervisor(VmEventHub hub, IGuestExecutionFactory executions, IOptions<SchedulerOptions> options, ILogger<VmSupervisor> logger)
    {
        _hub = hub;
        _executions = executions;
        var threads = options.Value.Threads <= 0 ? Environment.ProcessorCount : options.Value.Threads;
        _scheduler = new VmScheduler(threads, options.Value.QuantumInstructions, (worker, exception) => LogVmmFault(logger, exception, worker.Id));
    }

    /// <summary>The VM's worker, created from its stored definition and status on first use.</summary>
    public VmWorker Worker(VmEntity vm, ImageEntity image) =>
        _workers.GetOrAdd(vm.Id, _ => _scheduler.CreateWorker(
            Spec(vm, image),
            new VmStatus(vm.State, vm.StateReason, vm.ExitCode, (ulong)vm.InstructionsRetired, 0, vm.StatusSequence),
            _executions,
            _hub));

    /// <summary>The VM's worker if it has one (it has been booted since the server started).</summary>
    public VmWorker? Find(Guid id) => _workers.TryGetValue(id, out var worker) ? worker : null;

    /// <summary>Stops and retires the VM's worker (DELETE).</summary>
    public async Task RetireAsync(Guid id)
    {
        if (_workers.TryRemove(id, out var worker))
        {
            await worker.SendAsync(new ShutdownCommand());
        }
    }

    /// <summary>The definition a worker runs: the entity with its image's bytes.</summary>
    public static VmSpec Spec(VmEntity vm, ImageEntity image) => new(
        vm.Id,
        vm.Name,
        image.Content,
        vm.Vcpus,
        vm.MemoryMiB,
        vm.CpuMode,
        vm.CpuProfile,
        vm.MemoryMode,
        vm.InstructionBudget is > 0 ? (ulong)vm.InstructionBudget.Value : null);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _scheduler.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _scheduler.Dispose();

    [LoggerMessage(Level = LogLevel.Error, Message = "VMM fault while running VM {VmId}; the VM is crashed, the server goes on")]
    private static partial void LogVmmFault(ILogger logger, Exception exception, Guid vmId);
}
