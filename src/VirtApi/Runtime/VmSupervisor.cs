using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using VirtApi.Devices;
using VirtApi.Hypervisor.Devices;
using VirtApi.Hypervisor.Vm;
using VirtApi.Persistence;
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
    private readonly DeviceFiles _files;

    public VmSupervisor(VmEventHub hub, IGuestExecutionFactory executions, DeviceFiles files, IOptions<SchedulerOptions> options, ILogger<VmSupervisor> logger)
    {
        _hub = hub;
        _executions = executions;
        _files = files;
        var threads = options.Value.Threads <= 0 ? Environment.ProcessorCount : options.Value.Threads;
        _scheduler = new VmScheduler(threads, options.Value.QuantumInstructions, (worker, exception) => LogVmmFault(logger, exception, worker.Id));
    }

    /// <summary>
    /// The VM's worker, created from its stored definition and status on first use; the VM must be
    /// read <see cref="VmQueries.WithDefinition"/>.
    /// </summary>
    public VmWorker Worker(VmEntity vm, ImageEntity image) =>
        _workers.GetOrAdd(vm.Id, _ => _scheduler.CreateWorker(
            Spec(vm, image, _files),
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

    /// <summary>A spec for the VM as it is defined now (after an attach, detach or PATCH), with the supervisor's data folder.</summary>
    public VmSpec Spec(VmEntity vm, ImageEntity image) => Spec(vm, image, _files);

    /// <summary>
    /// The definition a worker runs: the entity with its image's bytes, its devices by slot with their
    /// backing files, and its host's hypervisor type. The VM must be read <see cref="VmQueries.WithDefinition"/>.
    /// </summary>
    public static VmSpec Spec(VmEntity vm, ImageEntity image, DeviceFiles files) => new(
        vm.Id,
        vm.Name,
        image.Content,
        vm.Vcpus,
        vm.MemoryMiB,
        vm.CpuMode,
        vm.CpuProfile,
        vm.MemoryMode,
        vm.InstructionBudget is > 0 ? (ulong)vm.InstructionBudget.Value : null,
        [.. DeviceRules.Ordered(vm.Devices).Select(d => new VmDeviceSpec(d.Id, d.Name, d.Kind, d.Model, d.Slot, Disk(vm, d, files)))],
        (vm.Host ?? throw new InvalidOperationException($"VM {vm.Id} was read without its host; read it WithDefinition()")).HypervisorType);

    /// <summary>A block device's backing file: the VM's private disk, or its host device's file for passthrough.</summary>
    private static DiskBacking? Disk(VmEntity vm, VmDeviceEntity device, DeviceFiles files)
    {
        const long MiB = 1L << 20;
        if (device.Kind != DeviceKind.Block)
        {
            return null;
        }
        if (device.Model != DeviceModel.Passthrough)
        {
            return new DiskBacking(files.VmDiskPath(vm.Id, device.Id), device.SizeMiB!.Value * MiB);
        }
        var host = device.HostDevice ?? throw new InvalidOperationException($"device {device.Name} of VM {vm.Id} was read without its host device; read the VM WithDefinition()");
        return new DiskBacking(files.HostDevicePath(host.HostId, host.Name), (host.SizeMiB ?? Hosts.HostRules.DefaultBlockSizeMiB) * MiB);
    }

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
