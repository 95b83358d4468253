using VirtApi.Hypervisor.Statistics;
using VirtApi.Hypervisor.Vm;
using VirtApi.Machine.Board;
using VirtApi.Machine.Bus;
using VirtApi.Machine.Devices;
using VirtApi.Machine.Devices.Virtio;
using VirtApi.Machine.Memory;

namespace VirtApi.Hypervisor.Devices;

/// <summary>
/// A running VM's devices (DESIGN.md "Device virtualization"): each <see cref="VmDeviceSpec"/> as
/// hardware on the board (<see cref="DeviceSet"/>) with its disk opened from its backing file. The
/// model decides the hardware and who sits on the path: <c>emulated</c> is a register-level device
/// (16550A, ATA PIO) the VMM emulates access by access; <c>split</c> is a virtio-mmio front end whose
/// back end does a whole batch per notification; <c>passthrough</c> is the same register-level
/// hardware, the host's own device, mapped straight into the guest.
/// </summary>
public sealed class VmDevices : IDisposable
{
    /// <summary>The name the VMM counts accesses to empty virtio slots under (a driver probing them).</summary>
    public const string EmptyVirtioSlots = "virtio-empty";

    private readonly VmDeviceSpec[] _specs;
    private readonly FileBlockStore?[] _stores;
    private readonly HypervisorType _hostType;

    private VmDevices(VmDeviceSpec[] specs, FileBlockStore?[] stores, DeviceSet set, HypervisorType hostType)
    {
        _specs = specs;
        _stores = stores;
        Set = set;
        _hostType = hostType;
    }

    /// <summary>The hardware on the board.</summary>
    public DeviceSet Set { get; }

    /// <summary>
    /// Opens the disks of <paramref name="spec"/>'s devices and puts the devices on <paramref name="board"/>
    /// (restored from <paramref name="state"/> when given). Consoles write to <paramref name="console"/>.
    /// With a VMM (<paramref name="vmm"/> not null), split back ends charge their work where the host
    /// runs them: the VMM on a hosted host, the service VM on a bare-metal one.
    /// </summary>
    public static VmDevices Attach(VirtBoard board, IGuestMemory memory, VmSpec spec, IConsoleOutput console, DeviceSetState? state, VmmCounters? vmm, CostModel cost)
    {
        var specs = spec.DeviceList.OrderBy(d => d.Model == DeviceModel.Split ? 0 : 1).ThenBy(d => d.Slot).ToArray();
        var stores = new FileBlockStore?[specs.Length];
        try
        {
            var devices = new BoardDevice[specs.Length];
            for (var i = 0; i < specs.Length; i++)
            {
                var device = specs[i];
                if (device.Kind == DeviceKind.Block)
                {
                    stores[i] = FileBlockStore.Open(device.Disk ?? throw new ArgumentException($"block device {device.Name} has no backing file", nameof(spec)));
                }
                devices[i] = new BoardDevice(device.Name, Hardware(device), device.Slot, stores[i]);
            }
            var set = DeviceSet.Attach(board, memory, devices, new ConsoleSink(console), state);
            for (var i = 0; i < specs.Length; i++)
            {
                if (vmm is not null && set.Devices[i].Device is VirtioMmioTransport transport)
                {
                    transport.BackEnd = new SplitBackEnd(vmm.Device(specs[i].Name), vmm, cost, spec.HostType);
                }
            }
            return new VmDevices(specs, stores, set, spec.HostType);
        }
        catch
        {
            foreach (var store in stores)
            {
                store?.Dispose();
            }
            throw;
        }
    }

    /// <summary>Whether devices of <paramref name="kind"/> have hardware in this build (<see cref="Hardware"/> has a case for them).</summary>
    public static bool HasModel(DeviceKind kind) => kind is DeviceKind.Console or DeviceKind.Block;

    /// <summary>The hardware each kind and model is on the board.</summary>
    public static BoardDeviceType Hardware(VmDeviceSpec device) => (device.Kind, device.Model) switch
    {
        (DeviceKind.Block, DeviceModel.Split) => BoardDeviceType.VirtioBlock,
        (DeviceKind.Console, DeviceModel.Split) => BoardDeviceType.VirtioConsole,
        (DeviceKind.Block, _) => BoardDeviceType.AtaDisk,
        (DeviceKind.Console, _) => BoardDeviceType.Uart,
        _ => throw new NotSupportedException($"{device.Name}: no {CounterNames.Name(device.Model)} {CounterNames.Name(device.Kind)} device in this build"),
    };

    /// <summary>The windows a VMM traps and emulates, by device name: every device but the passthrough ones, and the empty virtio slots.</summary>
    public IEnumerable<(AddressRange Range, string Name)> Trapped()
    {
        for (var i = 0; i < _specs.Length; i++)
        {
            if (_specs[i].Model != DeviceModel.Passthrough)
            {
                yield return (Set.Devices[i].Definition.Range, _specs[i].Name);
            }
        }
        for (var slot = 0; slot < DeviceSlots.VirtioSlotCount; slot++)
        {
            if (!_specs.Any(d => d.Model == DeviceModel.Split && d.Slot == slot))
            {
                yield return (DeviceSlots.Virtio(slot), EmptyVirtioSlots);
            }
        }
    }

    /// <summary>The windows of passthrough devices: a VMM maps them into the guest instead of trapping.</summary>
    public IEnumerable<AddressRange> Passthrough() =>
        _specs.Select((d, i) => (d, i)).Where(x => x.d.Model == DeviceModel.Passthrough).Select(x => Set.Devices[x.i].Definition.Range);

    /// <summary>Each device's counters: the device's own, the VMM's exits to it, and its back end's work.</summary>
    public IReadOnlyList<VmDeviceStatistics> Statistics(VmmCounters? vmm) =>
    [
        .. _specs.Select((spec, i) =>
        {
            var activity = Set.Devices[i].Activity();
            var exits = vmm?.Devices.GetValueOrDefault(spec.Name);
            return new VmDeviceStatistics(
                spec.Name,
                CounterNames.Name(spec.Kind),
                CounterNames.Name(spec.Model),
                BackEnd(spec, vmm),
                exits?.Exits ?? 0,
                activity.DirectAccesses,
                activity.Notifications,
                activity.Requests,
                activity.Bytes,
                activity.Interrupts,
                activity.Errors,
                exits?.BackEndCycles ?? 0);
        }),
    ];

    /// <summary>Where a split device's back end runs: the host's service VM (bare-metal), the VMM (hosted), or the device itself with no VMM.</summary>
    private string? BackEnd(VmDeviceSpec spec, VmmCounters? vmm) => spec.Model != DeviceModel.Split
        ? null
        : vmm is null ? "device" : _hostType == HypervisorType.BareMetal ? "service-vm" : "vmm";

    /// <summary>How the device named <paramref name="name"/> is virtualized; the board's own devices (uart0, CLINT …) are emulated.</summary>
    public string ModelName(string name) => CounterNames.Name(_specs.FirstOrDefault(d => d.Name == name)?.Model ?? DeviceModel.Emulated);

    /// <summary>Syncs and closes the disks' files; the devices are not used again.</summary>
    public void Dispose()
    {
        foreach (var store in _stores)
        {
            store?.Dispose();
        }
    }

    private sealed class ConsoleSink(IConsoleOutput console) : ISerialSink
    {
        public void Transmit(byte value) => console.Write(value);
    }

    /// <summary>A split back end's host: charges each batch it completes to the VMM or the service VM.</summary>
    private sealed class SplitBackEnd(DeviceCounters device, VmmCounters vmm, CostModel cost, HypervisorType host) : IVirtioBackEndObserver
    {
        public void BatchServiced(int requests)
        {
            var cycles = cost.BackEndBatch + ((ulong)requests * cost.BackEndRequest);
            device.BackEndCycles += cycles;
            if (host == HypervisorType.BareMetal)
            {
                vmm.ServiceVmCycles += cycles;
            }
            else
            {
                vmm.VmmCycles += cycles;
            }
        }
    }
}
