using System.Buffers.Binary;
using VirtApi.Machine.Bus;
using VirtApi.Machine.Memory;

namespace VirtApi.Machine.Devices.Virtio;

/// <summary>
/// A virtio-mmio device, version 2 (virtio 1.2 §4.2): the control registers of §4.2.2, then the
/// device's configuration space at 0x100, in a 4 KiB window, one split virtqueue per device queue,
/// one interrupt line. The device type behind it is an <see cref="IVirtioDevice"/>. Everything a
/// notification starts finishes before the QueueNotify write returns, so runs are deterministic.
/// <para>
/// Control registers take 32-bit aligned accesses only (§4.2.2.2); configuration space takes 8-, 16-
/// and 32-bit aligned ones. Any other width, an offset that is no register, a read of a write-only
/// register or a write of a read-only one is refused, which the hart sees as an access fault (QEMU
/// instead logs a guest error and reads zero).
/// </para>
/// <para>
/// A driver that breaks the spec (registers written out of order, a queue notified before it is ready,
/// rings that make no sense) never makes the device throw or touch memory outside guest RAM: the device
/// sets DEVICE_NEEDS_RESET, stops using its queues, and once DRIVER_OK is set sends a configuration
/// change notification (§2.1.2). Only a reset (Status = 0) brings it back.
/// </para>
/// </summary>
public sealed class VirtioMmioTransport : IMmioDevice, IVirtioTransport
{
    public const ulong Size = 0x1000;

    /// <summary>MagicValue: "virt" read as a little-endian word (§4.2.2).</summary>
    public const uint MagicValue = 0x7472_6976;

    /// <summary>Version 2: the non-legacy register layout (§4.2.2; legacy devices say 1).</summary>
    public const uint Version = 2;

    /// <summary>
    /// VendorID: QEMU's virtio-mmio value, "QEMU" as a little-endian word (VIRTIO_MMIO_VENDOR_ID), so a
    /// guest that prints it prints the same under QEMU. Drivers match on DeviceID, not on this.
    /// </summary>
    public const uint VendorId = 0x554d_4551;

    /// <summary>VIRTIO_F_VERSION_1 (§6): offered by every device and required of every driver, since there is no legacy interface here.</summary>
    public const ulong FeatureVersion1 = 1UL << 32;

    /// <summary>QueueNumMax when none is given: QEMU's virtio-blk and virtio-console queue size.</summary>
    public const ushort DefaultQueueNumMax = 256;

    /// <summary>InterruptStatus bit 0: used buffer notification (§4.2.2).</summary>
    public const uint InterruptUsedBuffer = 1;

    /// <summary>InterruptStatus bit 1: configuration change notification (§4.2.2).</summary>
    public const uint InterruptConfigChange = 2;

    /// <summary>Where the device configuration space starts in the window (§4.2.2 Config).</summary>
    public const ulong ConfigOffset = 0x100;

    // Control register offsets (§4.2.2, table "MMIO Device Register Layout").
    private const ulong RegMagicValue = 0x000;
    private const ulong RegVersion = 0x004;
    private const ulong RegDeviceId = 0x008;
    private const ulong RegVendorId = 0x00c;
    private const ulong RegDeviceFeatures = 0x010;
    private const ulong RegDeviceFeaturesSel = 0x014;
    private const ulong RegDriverFeatures = 0x020;
    private const ulong RegDriverFeaturesSel = 0x024;
    private const ulong RegQueueSel = 0x030;
    private const ulong RegQueueNumMax = 0x034;
    private const ulong RegQueueNum = 0x038;
    private const ulong RegQueueReady = 0x044;
    private const ulong RegQueueNotify = 0x050;
    private const ulong RegInterruptStatus = 0x060;
    private const ulong RegInterruptAck = 0x064;
    private const ulong RegStatus = 0x070;
    private const ulong RegQueueDescLow = 0x080;
    private const ulong RegQueueDescHigh = 0x084;
    private const ulong RegQueueDriverLow = 0x090;
    private const ulong RegQueueDriverHigh = 0x094;
    private const ulong RegQueueDeviceLow = 0x0a0;
    private const ulong RegQueueDeviceHigh = 0x0a4;
    private const ulong RegShmSel = 0x0ac;
    private const ulong RegShmLenLow = 0x0b0;
    private const ulong RegShmBaseHigh = 0x0bc;
    private const ulong RegConfigGeneration = 0x0fc;

    private readonly IGuestMemory _memory;
    private readonly IInterruptLine _irq;
    private readonly SplitVirtqueue[] _queues;
    private uint _deviceFeaturesSel;
    private uint _driverFeaturesSel;
    private ulong _driverFeatures;
    private bool _featuresBeyond64;
    private uint _queueSel;
    private uint _status;
    private uint _interruptStatus;

    /// <summary>
    /// A transport for <paramref name="device"/>, reset, whose queues accept up to
    /// <paramref name="queueNumMax"/> entries (a power of 2), reaching guest RAM through
    /// <paramref name="memory"/> and interrupting on <paramref name="irq"/> (a PLIC source).
    /// </summary>
    public VirtioMmioTransport(IVirtioDevice device, IGuestMemory memory, IInterruptLine irq, ushort queueNumMax = DefaultQueueNumMax)
    {
        Device = device;
        _memory = memory;
        _irq = irq;
        _queues = new SplitVirtqueue[device.QueueCount];
        for (var i = 0; i < _queues.Length; i++)
        {
            _queues[i] = new SplitVirtqueue(queueNumMax);
        }
        device.Attach(this);
    }

    public IVirtioDevice Device { get; }

    public VirtioCounters Counters { get; private set; } = new();

    /// <summary>Told of every batch the back end completes, where a hypervisor charges the work; a host binding, not saved.</summary>
    public IVirtioBackEndObserver? BackEnd { get; set; }

    /// <summary>The device status field (§2.1), DEVICE_NEEDS_RESET included.</summary>
    public uint Status => _status;

    /// <summary>The feature bits the device offers (§2.2): the device type's and VIRTIO_F_VERSION_1.</summary>
    public ulong DeviceFeatures => Device.DeviceFeatures | FeatureVersion1;

    /// <summary>The feature bits the driver wrote; negotiated once <see cref="VirtioDeviceStatus.FeaturesOk"/> is set.</summary>
    public ulong DriverFeatures => _driverFeatures;

    /// <summary>InterruptStatus: events notified and not yet acknowledged; the line is high while it is non-zero.</summary>
    public uint InterruptStatus => _interruptStatus;

    /// <summary>The device's virtqueues, by index.</summary>
    public IReadOnlyList<SplitVirtqueue> Queues => _queues;

    // The device may use its queues only after DRIVER_OK (§2.1.2, §3.1.1), and not after it asked for a reset or the driver gave up.
    private bool Operational => (_status & (VirtioDeviceStatus.DriverOk | VirtioDeviceStatus.DeviceNeedsReset | VirtioDeviceStatus.Failed)) == VirtioDeviceStatus.DriverOk;

    private bool NeedsReset => (_status & VirtioDeviceStatus.DeviceNeedsReset) != 0;

    private SplitVirtqueue? SelectedQueue => _queueSel < (uint)_queues.Length ? _queues[_queueSel] : null;

    public bool Read(ulong offset, int size, out ulong value)
    {
        Counters.RegisterAccesses++;
        value = 0;
        if (offset >= ConfigOffset)
        {
            return ReadConfig(offset - ConfigOffset, size, out value);
        }
        if (size != 4 || offset % 4 != 0)
        {
            return false;
        }
        switch (offset)
        {
            case RegMagicValue: value = MagicValue; break;
            case RegVersion: value = Version; break;
            case RegDeviceId: value = Device.DeviceId; break;
            case RegVendorId: value = VendorId; break;
            case RegDeviceFeatures:
                value = _deviceFeaturesSel switch
                {
                    0 => (uint)DeviceFeatures,
                    1 => (uint)(DeviceFeatures >> 32),
                    _ => 0u, // no feature bits beyond 63 exist
                };
                break;
            case RegQueueNumMax: value = SelectedQueue?.MaxSize ?? 0u; break; // 0: no such queue (§4.2.3.2)
            case RegQueueReady: value = SelectedQueue is { Ready: true } ? 1u : 0u; break;
            case RegInterruptStatus: value = _interruptStatus; break;
            case RegStatus: value = _status; break;
            // No shared memory regions: a region that does not exist has length and base all ones (§4.2.2).
            case >= RegShmLenLow and <= RegShmBaseHigh: value = uint.MaxValue; break;
            // The configuration space never changes while a driver reads it (capacity is fixed by the
            // store, the console has no size), so its generation stays 0 (§2.5).
            case RegConfigGeneration: value = 0; break;
            default: return false;
        }
        return true;
    }

    public bool Write(ulong offset, int size, ulong value)
    {
        Counters.RegisterAccesses++;
        if (offset >= ConfigOffset)
        {
            return WriteConfig(offset - ConfigOffset, size, value);
        }
        if (size != 4 || offset % 4 != 0)
        {
            return false;
        }
        var word = (uint)value;
        switch (offset)
        {
            case RegStatus: WriteStatus(word); return true;
            case RegInterruptAck: Acknowledge(word); return true;
            case RegQueueNotify: Notify(word); return true;
            case RegDeviceFeaturesSel: _deviceFeaturesSel = word; return true;
            case RegShmSel: return true; // selects among no regions
            case RegDriverFeaturesSel or RegDriverFeatures or RegQueueSel or RegQueueNum or RegQueueReady
                or RegQueueDescLow or RegQueueDescHigh or RegQueueDriverLow or RegQueueDriverHigh
                or RegQueueDeviceLow or RegQueueDeviceHigh:
                if (!NeedsReset)
                {
                    WriteSetup(offset, word);
                }
                return true; // a device waiting for its reset ignores setup
            default: return false;
        }
    }

    /// <summary>Processes queue <paramref name="queueIndex"/> now if the driver has made it usable; see <see cref="IVirtioTransport.Service"/>.</summary>
    public void Service(int queueIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(queueIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(queueIndex, _queues.Length);
        if (Operational && _queues[queueIndex].Ready)
        {
            ProcessQueue(queueIndex);
        }
    }

    /// <summary>The registers, the queues and the counters, for a snapshot; the device type saves its own state.</summary>
    public VirtioMmioState Save() => new()
    {
        DeviceId = Device.DeviceId,
        Status = _status,
        DeviceFeaturesSel = _deviceFeaturesSel,
        DriverFeaturesSel = _driverFeaturesSel,
        DriverFeatures = _driverFeatures,
        DriverFeaturesBeyond64 = _featuresBeyond64,
        QueueSel = _queueSel,
        InterruptStatus = _interruptStatus,
        Queues = [.. _queues.Select(q => q.Save())],
        Counters = Counters.Save(),
    };

    /// <summary>
    /// A transport holding <paramref name="state"/> for the device of <paramref name="args"/> (already
    /// restored, and of the same type). It drives its interrupt line at once to the level InterruptStatus gives.
    /// </summary>
    public static VirtioMmioTransport Restore(VirtioMmioArgs args, VirtioMmioState state)
    {
        if (state.DeviceId != args.Device.DeviceId)
        {
            throw new ArgumentException($"the state is of virtio device {state.DeviceId}, not {args.Device.DeviceId}", nameof(state));
        }
        StateArrays.Require(state.Queues, args.Device.QueueCount, nameof(state.Queues));
        var transport = new VirtioMmioTransport(args.Device, args.Memory, args.Irq, args.QueueNumMax)
        {
            _status = state.Status,
            _deviceFeaturesSel = state.DeviceFeaturesSel,
            _driverFeaturesSel = state.DriverFeaturesSel,
            _driverFeatures = state.DriverFeatures,
            _featuresBeyond64 = state.DriverFeaturesBeyond64,
            _queueSel = state.QueueSel,
            _interruptStatus = state.InterruptStatus & (InterruptUsedBuffer | InterruptConfigChange),
            Counters = VirtioCounters.Restore(state.Counters),
        };
        for (var i = 0; i < transport._queues.Length; i++)
        {
            transport._queues[i] = SplitVirtqueue.Restore(args.QueueNumMax, state.Queues[i]);
        }
        transport._irq.SetLevel(transport._interruptStatus != 0);
        return transport;
    }

    private bool ReadConfig(ulong offset, int size, out ulong value)
    {
        value = 0;
        if (!ConfigAccessAllowed(offset, size))
        {
            return false;
        }
        Span<byte> bytes = stackalloc byte[4];
        Device.ReadConfig((int)offset, bytes[..size]);
        value = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        return true;
    }

    private bool WriteConfig(ulong offset, int size, ulong value)
    {
        if (!ConfigAccessAllowed(offset, size))
        {
            return false;
        }
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)value);
        return Device.WriteConfig((int)offset, bytes[..size]);
    }

    // §4.2.2.2: 8-bit accesses for 8-bit fields, aligned 16-bit for 16-bit fields, aligned 32-bit for 32- and 64-bit fields.
    private bool ConfigAccessAllowed(ulong offset, int size) =>
        size is 1 or 2 or 4 && offset % (ulong)size == 0 && offset + (ulong)size <= (ulong)Device.ConfigSize;

    /// <summary>
    /// The Status register (§2.1, §3.1.1, §4.2.2). Zero resets the device. Otherwise the driver adds
    /// bits in the order of §3.1.1 (ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK) and never clears one
    /// (§2.1.1); breaking either rule is a driver error. FEATURES_OK is refused, by leaving it clear,
    /// when the driver accepted a feature that was not offered or did not accept VIRTIO_F_VERSION_1
    /// (§2.2.2, §6.2). Setting DRIVER_OK starts the queues: notifications that came before it are served then.
    /// </summary>
    private void WriteStatus(uint value)
    {
        if (value == 0)
        {
            Reset();
            return;
        }
        var current = _status & VirtioDeviceStatus.DriverBits;
        var next = value & VirtioDeviceStatus.DriverBits;
        if ((current & ~next) != 0)
        {
            DriverError();
            return;
        }
        var added = next & ~current;
        if (((added & VirtioDeviceStatus.Driver) != 0 && (next & VirtioDeviceStatus.Acknowledge) == 0)
            || ((added & VirtioDeviceStatus.FeaturesOk) != 0 && (next & VirtioDeviceStatus.Driver) == 0))
        {
            DriverError();
            return;
        }
        if ((added & VirtioDeviceStatus.FeaturesOk) != 0 && !FeaturesAcceptable())
        {
            next &= ~VirtioDeviceStatus.FeaturesOk;
        }
        if ((added & VirtioDeviceStatus.DriverOk) != 0 && (next & VirtioDeviceStatus.FeaturesOk) == 0)
        {
            DriverError();
            return;
        }
        _status = next | (_status & VirtioDeviceStatus.DeviceNeedsReset);
        if ((added & VirtioDeviceStatus.DriverOk) != 0)
        {
            for (var i = 0; i < _queues.Length && Operational; i++)
            {
                if (_queues[i].Ready)
                {
                    ProcessQueue(i);
                }
            }
        }
    }

    private bool FeaturesAcceptable() =>
        !_featuresBeyond64 && (_driverFeatures & ~DeviceFeatures) == 0 && (_driverFeatures & FeatureVersion1) != 0;

    /// <summary>Device reset (§2.4, §4.2.2.1): every register to its reset value, queues not ready, no interrupt pending.</summary>
    private void Reset()
    {
        _status = 0;
        _deviceFeaturesSel = 0;
        _driverFeaturesSel = 0;
        _driverFeatures = 0;
        _featuresBeyond64 = false;
        _queueSel = 0;
        foreach (var queue in _queues)
        {
            queue.Reset();
        }
        if (_interruptStatus != 0)
        {
            _interruptStatus = 0;
            _irq.SetLevel(false);
        }
    }

    /// <summary>Feature and queue setup registers, while the device is not waiting for a reset.</summary>
    private void WriteSetup(ulong offset, uint value)
    {
        switch (offset)
        {
            case RegDriverFeaturesSel:
                _driverFeaturesSel = value;
                return;
            case RegDriverFeatures:
                // The features are fixed once FEATURES_OK is accepted (§3.1.1 steps 4-6).
                if ((_status & VirtioDeviceStatus.FeaturesOk) != 0)
                {
                    DriverError();
                }
                else if (_driverFeaturesSel < 2)
                {
                    var shift = (int)_driverFeaturesSel * 32;
                    _driverFeatures = (_driverFeatures & ~(0xffff_ffffUL << shift)) | ((ulong)value << shift);
                }
                else if (value != 0)
                {
                    _featuresBeyond64 = true; // nothing is offered there, so FEATURES_OK will be refused
                }
                return;
            case RegQueueSel:
                _queueSel = value;
                return;
        }
        if (SelectedQueue is not { } queue)
        {
            return; // a queue that does not exist (QueueNumMax reads 0) has nothing to set up
        }
        if (offset == RegQueueReady)
        {
            WriteQueueReady(queue, value);
            return;
        }
        // §4.2.2.2: while QueueReady is set the driver MUST NOT touch the queue's size or addresses.
        if (queue.Ready)
        {
            DriverError();
            return;
        }
        switch (offset)
        {
            case RegQueueNum:
                if (queue.AcceptsSize(value))
                {
                    queue.Size = (ushort)value;
                }
                else
                {
                    DriverError(); // §4.2.2.2: at most QueueNumMax; §2.7: a power of 2
                }
                break;
            case RegQueueDescLow: queue.DescriptorArea = Low(queue.DescriptorArea, value); break;
            case RegQueueDescHigh: queue.DescriptorArea = High(queue.DescriptorArea, value); break;
            case RegQueueDriverLow: queue.DriverArea = Low(queue.DriverArea, value); break;
            case RegQueueDriverHigh: queue.DriverArea = High(queue.DriverArea, value); break;
            case RegQueueDeviceLow: queue.DeviceArea = Low(queue.DeviceArea, value); break;
            case RegQueueDeviceHigh: queue.DeviceArea = High(queue.DeviceArea, value); break;
        }
    }

    /// <summary>
    /// QueueReady (§4.2.2). Writing 1 enables the queue once features are negotiated (§3.1.1 step 7
    /// comes after FEATURES_OK) and its areas are properly aligned (§2.7.1); the device then starts both
    /// indices at 0, where the driver's zeroed rings start. Writing 0 stops the device using it.
    /// </summary>
    private void WriteQueueReady(SplitVirtqueue queue, uint value)
    {
        if (value == 0)
        {
            queue.Ready = false;
            return;
        }
        if (value != 1 || (_status & VirtioDeviceStatus.FeaturesOk) == 0 || !queue.AreasValid)
        {
            DriverError();
            return;
        }
        if (!queue.Ready)
        {
            queue.LastAvailIdx = 0;
            queue.UsedIdx = 0;
            queue.Ready = true;
        }
    }

    /// <summary>
    /// QueueNotify (§4.2.3.3): the value is the queue index. A queue that does not exist or is not
    /// ready is a driver error (the device MUST NOT access a queue whose QueueReady is 0, §4.2.2.1).
    /// Before DRIVER_OK the device may not use buffers (§2.1.2): the queue is served when DRIVER_OK is set.
    /// </summary>
    private void Notify(uint queueIndex)
    {
        Counters.Notifications++;
        if (NeedsReset || (_status & VirtioDeviceStatus.Failed) != 0)
        {
            return;
        }
        if (queueIndex >= (uint)_queues.Length || !_queues[queueIndex].Ready)
        {
            DriverError();
            return;
        }
        if (Operational)
        {
            ProcessQueue((int)queueIndex);
        }
    }

    /// <summary>
    /// One batch: every chain the driver has made available (and the device can take now) is handled
    /// and returned to the used ring, then one used buffer notification is sent unless the driver
    /// suppressed it (§2.7.7.2). A queue can hold at most its size of outstanding chains (§2.7.6), so a
    /// batch never takes more; that also bounds it when a device write lands on the available ring.
    /// </summary>
    private void ProcessQueue(int index)
    {
        var queue = _queues[index];
        var completed = 0;
        var broken = false;
        while (completed < queue.Size && Device.CanConsume(index))
        {
            var result = queue.TryPop(_memory, out var chain);
            if (result == PopResult.Empty)
            {
                break;
            }
            if (result == PopResult.Broken || !Device.Process(index, chain, out var written) || !queue.TryPush(_memory, chain.Head, written))
            {
                broken = true;
                break;
            }
            Counters.Requests++;
            completed++;
        }
        if (completed > 0)
        {
            Counters.Batches++;
            BackEnd?.BatchServiced(completed);
            var wanted = queue.WantsNotification(_memory, out var readable);
            broken |= !readable;
            if (wanted)
            {
                RaiseInterrupt(InterruptUsedBuffer);
            }
        }
        if (broken)
        {
            DriverError();
        }
    }

    private void Acknowledge(uint bits)
    {
        if (_interruptStatus != 0 && (_interruptStatus &= ~bits) == 0)
        {
            _irq.SetLevel(false);
        }
    }

    private void RaiseInterrupt(uint bit)
    {
        if (_interruptStatus == 0)
        {
            Counters.InterruptsRaised++;
            _irq.SetLevel(true);
        }
        _interruptStatus |= bit;
    }

    /// <summary>
    /// The driver broke the spec: the device sets DEVICE_NEEDS_RESET, stops using its queues, and, if
    /// DRIVER_OK is set, sends a configuration change notification (§2.1.2).
    /// </summary>
    private void DriverError()
    {
        if (NeedsReset)
        {
            return;
        }
        Counters.DeviceErrors++;
        _status |= VirtioDeviceStatus.DeviceNeedsReset;
        if ((_status & VirtioDeviceStatus.DriverOk) != 0)
        {
            RaiseInterrupt(InterruptConfigChange);
        }
    }

    private static ulong Low(ulong address, uint value) => (address & 0xffff_ffff_0000_0000UL) | value;

    private static ulong High(ulong address, uint value) => (address & 0xffff_ffffUL) | ((ulong)value << 32);
}
