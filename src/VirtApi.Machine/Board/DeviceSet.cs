using System.Collections.Immutable;
using VirtApi.Machine.Bus;
using VirtApi.Machine.Devices;
using VirtApi.Machine.Devices.Ata;
using VirtApi.Machine.Devices.Block;
using VirtApi.Machine.Devices.Virtio;
using VirtApi.Machine.Memory;

namespace VirtApi.Machine.Board;

/// <summary>The hardware a VM device is on the board.</summary>
public enum BoardDeviceType
{
    /// <summary>virtio-blk behind virtio-mmio, in a virtio slot.</summary>
    VirtioBlock,

    /// <summary>virtio-console behind virtio-mmio, in a virtio slot.</summary>
    VirtioConsole,

    /// <summary>An ATA PIO controller with one disk, in a legacy slot.</summary>
    AtaDisk,

    /// <summary>A 16550A UART, in a legacy slot.</summary>
    Uart,
}

/// <summary>One device to put on the board: its name, its hardware, its slot and (for a disk) its medium.</summary>
public sealed record BoardDevice(string Name, BoardDeviceType Type, int Slot, IBlockStore? Disk = null)
{
    /// <summary>Whether the device sits in a virtio-mmio slot (otherwise a legacy slot).</summary>
    public bool IsVirtio => Type is BoardDeviceType.VirtioBlock or BoardDeviceType.VirtioConsole;

    /// <summary>Its MMIO window.</summary>
    public AddressRange Range => IsVirtio ? DeviceSlots.Virtio(Slot) : DeviceSlots.Legacy(Slot);

    /// <summary>Its PLIC source.</summary>
    public int Interrupt => IsVirtio ? DeviceSlots.VirtioInterrupt(Slot) : DeviceSlots.LegacyInterrupt(Slot);
}

/// <summary>What one device did, each counted by the device where the work happens.</summary>
/// <param name="DirectAccesses">Register accesses that reached the device straight from a hart's load or store (no VMM on the path).</param>
/// <param name="Notifications">Available-buffer notifications (virtio QueueNotify writes).</param>
/// <param name="Requests">Requests completed: virtio descriptor chains, ATA commands.</param>
/// <param name="Bytes">Payload bytes moved between the guest and the device's medium.</param>
/// <param name="Interrupts">Times the device raised its interrupt line.</param>
/// <param name="Errors">Times the device refused the driver (virtio DEVICE_NEEDS_RESET, ATA ABRT).</param>
public readonly record struct DeviceActivity(ulong DirectAccesses, ulong Notifications, ulong Requests, ulong Bytes, ulong Interrupts, ulong Errors);

/// <summary>
/// A device on the bus behind its counter of direct accesses. A hart's load or store reaches the device
/// through here; a VMM emulating a trapped access calls <see cref="Device"/> itself, so only accesses with
/// no VMM on the path are counted as direct.
/// </summary>
public sealed class AttachedDevice : IMmioDevice
{
    internal AttachedDevice(BoardDevice definition, IMmioDevice device, ulong directAccesses)
    {
        Definition = definition;
        Device = device;
        DirectAccesses = directAccesses;
    }

    public BoardDevice Definition { get; }

    /// <summary>The device model itself.</summary>
    public IMmioDevice Device { get; }

    /// <summary>Register accesses that came straight from a hart.</summary>
    public ulong DirectAccesses { get; private set; }

    public bool Read(ulong offset, int size, out ulong value)
    {
        DirectAccesses++;
        return Device.Read(offset, size, out value);
    }

    public bool Write(ulong offset, int size, ulong value)
    {
        DirectAccesses++;
        return Device.Write(offset, size, value);
    }

    /// <summary>The device's counters now.</summary>
    public DeviceActivity Activity() => Device switch
    {
        VirtioMmioTransport v => new(DirectAccesses, v.Counters.Notifications, v.Counters.Requests, v.Counters.BytesTransferred, v.Counters.InterruptsRaised, v.Counters.DeviceErrors),
        AtaController a => new(DirectAccesses, 0, a.Counters.Commands, a.Counters.BytesTransferred, a.Counters.InterruptsRaised, a.Counters.DeviceErrors),
        _ => new(DirectAccesses, 0, 0, 0, 0, 0),
    };
}

/// <summary>
/// A VM's devices beyond the board's own, on the board's bus (DESIGN.md "Device virtualization"): each
/// in its slot (<see cref="DeviceSlots"/>), interrupting through the board's PLIC, doing DMA through
/// <c>memory</c> (the guest-physical view: the board's RAM natively, the P2M under a VMM). Every virtio
/// slot without a device answers as an empty slot, as on QEMU <c>virt</c>; a legacy slot without a device
/// is not on the bus. Disks' contents live in their stores, not in <see cref="DeviceSetState"/>.
/// </summary>
public sealed class DeviceSet
{
    private readonly AttachedDevice[] _devices;

    private DeviceSet(AttachedDevice[] devices) => _devices = devices;

    /// <summary>The VM's devices, in the order given.</summary>
    public IReadOnlyList<AttachedDevice> Devices => _devices;

    /// <summary>
    /// Builds <paramref name="devices"/> (or, with <paramref name="state"/>, the devices it was saved from)
    /// and puts them on <paramref name="board"/>'s bus with the empty virtio slots. Consoles write to
    /// <paramref name="console"/>. Call it after the board is built or restored, so that restored devices
    /// drive their interrupt lines into the restored PLIC.
    /// </summary>
    public static DeviceSet Attach(VirtBoard board, IGuestMemory memory, IReadOnlyList<BoardDevice> devices, ISerialSink? console, DeviceSetState? state = null)
    {
        Check(devices);
        var attached = new AttachedDevice[devices.Count];
        for (var i = 0; i < devices.Count; i++)
        {
            var device = devices[i];
            var irq = board.Plic.Source(device.Interrupt);
            var saved = state?.Devices.GetValueOrDefault(device.Name);
            if (state is not null && saved is null)
            {
                throw new ArgumentException($"the saved devices have no state for {device.Name}", nameof(state));
            }
            IMmioDevice model = device.Type switch
            {
                BoardDeviceType.VirtioBlock => Virtio(new VirtioBlock(RequireDisk(device), device.Name), memory, irq, saved),
                BoardDeviceType.VirtioConsole => Virtio(
                    saved?.Console is { } consoleState ? VirtioConsole.Restore(new VirtioConsoleArgs(console), consoleState) : new VirtioConsole { Sink = console },
                    memory,
                    irq,
                    saved),
                BoardDeviceType.AtaDisk => saved?.Ata is { } ata ? AtaController.Restore(new AtaArgs(irq, RequireDisk(device)), ata) : new AtaController(irq, RequireDisk(device)),
                BoardDeviceType.Uart => saved?.Uart is { } uart ? Uart16550.Restore(new UartArgs(irq, console), uart) : new Uart16550(irq) { Sink = console },
                _ => throw new ArgumentOutOfRangeException(nameof(devices), device.Type, "unknown device type"),
            };
            attached[i] = new AttachedDevice(device, model, saved?.DirectAccesses ?? 0);
            board.Bus.Register(device.Range, attached[i]);
        }
        for (var slot = 0; slot < DeviceSlots.VirtioSlotCount; slot++)
        {
            if (!devices.Any(d => d.IsVirtio && d.Slot == slot))
            {
                board.Bus.Register(DeviceSlots.Virtio(slot), new EmptyVirtioSlot());
            }
        }
        return new DeviceSet(attached);
    }

    /// <summary>Every device's state by name, for a snapshot (between two runs of the board).</summary>
    public DeviceSetState Save() => new()
    {
        Devices = _devices.ToImmutableSortedDictionary(
            d => d.Definition.Name,
            d => d.Device switch
            {
                VirtioMmioTransport v => new SavedDevice(d.DirectAccesses) { Virtio = v.Save(), Console = (v.Device as VirtioConsole)?.Save() },
                AtaController a => new SavedDevice(d.DirectAccesses) { Ata = a.Save() },
                Uart16550 u => new SavedDevice(d.DirectAccesses) { Uart = u.Save() },
                _ => throw new InvalidOperationException($"device {d.Definition.Name} has no saved state"),
            },
            StringComparer.Ordinal),
    };

    private static VirtioMmioTransport Virtio(IVirtioDevice device, IGuestMemory memory, IInterruptLine irq, SavedDevice? saved) =>
        saved is null
            ? new VirtioMmioTransport(device, memory, irq)
            : VirtioMmioTransport.Restore(new VirtioMmioArgs(device, memory, irq), saved.Virtio ?? throw new ArgumentException("a virtio device's saved state has no transport", nameof(saved)));

    private static IBlockStore RequireDisk(BoardDevice device) =>
        device.Disk ?? throw new ArgumentException($"{device.Name} is a disk without a store", nameof(device));

    private static void Check(IReadOnlyList<BoardDevice> devices)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var ranges = new HashSet<AddressRange>();
        foreach (var device in devices)
        {
            _ = device.Range; // checks the slot
            if (!names.Add(device.Name) || !ranges.Add(device.Range))
            {
                throw new ArgumentException($"{device.Name}: two devices share a name or a slot", nameof(devices));
            }
        }
    }
}
