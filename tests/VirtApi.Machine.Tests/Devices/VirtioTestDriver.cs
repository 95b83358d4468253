using System.Buffers.Binary;
using VirtApi.Machine.Devices;
using VirtApi.Machine.Devices.Block;
using VirtApi.Machine.Devices.Virtio;
using VirtApi.Machine.Memory;

namespace VirtApi.Machine.Tests.Devices;

/// <summary>An interrupt line that remembers its level and how often it rose.</summary>
internal sealed class RecordingLine : IInterruptLine
{
    public bool Level { get; private set; }

    public int Rises { get; private set; }

    public void SetLevel(bool level)
    {
        if (level && !Level)
        {
            Rises++;
        }
        Level = level;
    }
}

/// <summary>Collects what a console transmits.</summary>
internal sealed class ByteSink : ISerialSink
{
    public List<byte> Bytes { get; } = [];

    public void Transmit(byte value) => Bytes.Add(value);
}

/// <summary>One buffer of a chain the test driver offers: where, how long, and whether the device writes it.</summary>
internal readonly record struct TestBuffer(ulong Address, uint Length, bool Writable);

/// <summary>
/// The driver side of a virtio-mmio device, written from the spec as a test would drive real
/// hardware: registers through <see cref="VirtioMmioTransport.Read"/>/<see cref="VirtioMmioTransport.Write"/>,
/// rings in 1 MiB of guest RAM at 0x8000_0000. Queue q's descriptor table is at <see cref="DescriptorArea"/>(q),
/// its available ring 0x1000 after, its used ring 0x2000 after; data buffers come from a bump allocator above 0x8004_0000.
/// </summary>
internal sealed class VirtioTestDriver
{
    public const ulong RamBase = 0x8000_0000;
    public const ulong RamSize = 1 << 20;

    // Register offsets (virtio 1.2 §4.2.2).
    public const ulong MagicValue = 0x000;
    public const ulong Version = 0x004;
    public const ulong DeviceId = 0x008;
    public const ulong VendorId = 0x00c;
    public const ulong DeviceFeatures = 0x010;
    public const ulong DeviceFeaturesSel = 0x014;
    public const ulong DriverFeatures = 0x020;
    public const ulong DriverFeaturesSel = 0x024;
    public const ulong QueueSel = 0x030;
    public const ulong QueueNumMax = 0x034;
    public const ulong QueueNum = 0x038;
    public const ulong QueueReady = 0x044;
    public const ulong QueueNotify = 0x050;
    public const ulong InterruptStatus = 0x060;
    public const ulong InterruptAck = 0x064;
    public const ulong Status = 0x070;
    public const ulong QueueDescLow = 0x080;
    public const ulong QueueDescHigh = 0x084;
    public const ulong QueueDriverLow = 0x090;
    public const ulong QueueDriverHigh = 0x094;
    public const ulong QueueDeviceLow = 0x0a0;
    public const ulong QueueDeviceHigh = 0x0a4;
    public const ulong ConfigGeneration = 0x0fc;
    public const ulong Config = 0x100;

    private readonly ushort[] _availIdx;
    private readonly ushort[] _nextDescriptor;
    private readonly ushort[] _size;
    private ulong _nextBuffer = RamBase + 0x4_0000;

    /// <summary>A driver for <paramref name="device"/>; the device sees guest RAM through <paramref name="wrapMemory"/>(RAM) if given.</summary>
    public VirtioTestDriver(IVirtioDevice device, ushort queueNumMax = VirtioMmioTransport.DefaultQueueNumMax, Func<IGuestMemory, IGuestMemory>? wrapMemory = null)
    {
        Ram = new SparseRam(RamBase, RamSize);
        Memory = wrapMemory is null ? new RamGuestMemory(Ram) : wrapMemory(new RamGuestMemory(Ram));
        Transport = new VirtioMmioTransport(device, Memory, Irq, queueNumMax);
        _availIdx = new ushort[device.QueueCount];
        _nextDescriptor = new ushort[device.QueueCount];
        _size = new ushort[device.QueueCount];
    }

    public SparseRam Ram { get; }

    /// <summary>Guest RAM as the device sees it.</summary>
    public IGuestMemory Memory { get; }

    public RecordingLine Irq { get; } = new();

    public VirtioMmioTransport Transport { get; set; }

    public static ulong DescriptorArea(int queue) => RamBase + 0x1000 + ((ulong)queue * 0x4000);

    public static ulong DriverArea(int queue) => DescriptorArea(queue) + 0x1000;

    public static ulong DeviceArea(int queue) => DescriptorArea(queue) + 0x2000;

    public uint Read(ulong offset)
    {
        Assert.True(Transport.Read(offset, 4, out var value), $"read of 0x{offset:x} refused");
        return (uint)value;
    }

    public void Write(ulong offset, uint value) => Assert.True(Transport.Write(offset, 4, value), $"write of 0x{offset:x} refused");

    /// <summary>§3.1.1 up to FEATURES_OK: reset, ACKNOWLEDGE, DRIVER, the features, FEATURES_OK; returns the status read back.</summary>
    public uint Negotiate(ulong features)
    {
        Write(Status, 0);
        Write(Status, VirtioDeviceStatus.Acknowledge);
        Write(Status, VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver);
        Write(DriverFeaturesSel, 0);
        Write(DriverFeatures, (uint)features);
        Write(DriverFeaturesSel, 1);
        Write(DriverFeatures, (uint)(features >> 32));
        Write(Status, VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver | VirtioDeviceStatus.FeaturesOk);
        return Read(Status);
    }

    /// <summary>§4.2.3.2: select, size, the three areas (zeroed), ready.</summary>
    public void SetUpQueue(int queue, ushort size)
    {
        Write(QueueSel, (uint)queue);
        Assert.Equal(0u, Read(QueueReady));
        Write(QueueNum, size);
        Ram.WriteBytes(DescriptorArea(queue), new byte[0x3000]);
        WriteAddress(QueueDescLow, DescriptorArea(queue));
        WriteAddress(QueueDriverLow, DriverArea(queue));
        WriteAddress(QueueDeviceLow, DeviceArea(queue));
        Write(QueueReady, 1);
        _size[queue] = size;
        _availIdx[queue] = 0;
        _nextDescriptor[queue] = 0;
    }

    /// <summary>The whole of §3.1.1 with every queue of the device at <paramref name="size"/>.</summary>
    public void Initialize(ulong features, ushort size = 16)
    {
        Assert.Equal(VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver | VirtioDeviceStatus.FeaturesOk, Negotiate(features));
        for (var q = 0; q < _size.Length; q++)
        {
            SetUpQueue(q, size);
        }
        Write(Status, Read(Status) | VirtioDeviceStatus.DriverOk);
    }

    public void WriteAddress(ulong lowRegister, ulong address)
    {
        Write(lowRegister, (uint)address);
        Write(lowRegister + 4, (uint)(address >> 32));
    }

    /// <summary>Guest RAM for a buffer, 16-byte aligned, filled with <paramref name="contents"/> or zero.</summary>
    public ulong Buffer(int length, ReadOnlySpan<byte> contents = default)
    {
        var address = _nextBuffer;
        _nextBuffer += (ulong)((length + 15) & ~15);
        Assert.True(_nextBuffer <= RamBase + RamSize, "test RAM exhausted");
        var bytes = new byte[length];
        contents.CopyTo(bytes);
        Ram.WriteBytes(address, bytes);
        return address;
    }

    public byte[] ReadRam(ulong address, int length)
    {
        var bytes = new byte[length];
        Ram.ReadBytes(address, bytes);
        return bytes;
    }

    /// <summary>
    /// Writes the chain into the next descriptors (linked with NEXT, taken round the table) and its head
    /// into the available ring, without publishing it. Descriptors are not tracked: the caller keeps the
    /// chains outstanding at once within the queue size.
    /// </summary>
    public ushort Offer(int queue, params TestBuffer[] buffers)
    {
        var size = _size[queue];
        var head = _nextDescriptor[queue];
        for (var i = 0; i < buffers.Length; i++)
        {
            var index = (ushort)((head + i) % size);
            var next = (ushort)((head + i + 1) % size);
            var flags = (ushort)((i + 1 < buffers.Length ? SplitVirtqueue.DescriptorNext : 0) | (buffers[i].Writable ? SplitVirtqueue.DescriptorWrite : 0));
            WriteDescriptor(queue, index, buffers[i].Address, buffers[i].Length, flags, next);
        }
        _nextDescriptor[queue] = (ushort)((head + buffers.Length) % size);
        WriteAvailEntry(queue, _availIdx[queue], head);
        _availIdx[queue]++;
        return head;
    }

    public void WriteDescriptor(int queue, ushort index, ulong address, uint length, ushort flags, ushort next)
    {
        var descriptor = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(descriptor, address);
        BinaryPrimitives.WriteUInt32LittleEndian(descriptor.AsSpan(8), length);
        BinaryPrimitives.WriteUInt16LittleEndian(descriptor.AsSpan(12), flags);
        BinaryPrimitives.WriteUInt16LittleEndian(descriptor.AsSpan(14), next);
        Ram.WriteBytes(DescriptorArea(queue) + (16UL * index), descriptor);
    }

    public void WriteAvailEntry(int queue, ushort availIndex, ushort head) =>
        Ram.Write(DriverArea(queue) + 4 + (2UL * (ulong)(availIndex % _size[queue])), 2, head);

    /// <summary>avail.idx = what was offered (§2.7.13.3).</summary>
    public void Publish(int queue) => Ram.Write(DriverArea(queue) + 2, 2, _availIdx[queue]);

    /// <summary>Publishes and writes QueueNotify once (§2.7.13.4).</summary>
    public void Kick(int queue)
    {
        Publish(queue);
        Write(QueueNotify, (uint)queue);
    }

    /// <summary>Sets the driver's side of both indices (a driver that has run a long time), matching a device restored with the same.</summary>
    public void SetAvailIdx(int queue, ushort index) => _availIdx[queue] = index;

    public void SetAvailFlags(int queue, ushort flags) => Ram.Write(DriverArea(queue), 2, flags);

    public ushort AvailIdx(int queue) => _availIdx[queue];

    public ushort UsedIdx(int queue) => (ushort)Ram.Read(DeviceArea(queue) + 2, 2);

    /// <summary>used.ring[slot]: {id, len}.</summary>
    public (uint Id, uint Length) UsedElement(int queue, int slot)
    {
        var at = DeviceArea(queue) + 4 + (8UL * (ulong)slot);
        return ((uint)Ram.Read(at, 4), (uint)Ram.Read(at + 4, 4));
    }

    /// <summary>Reads InterruptStatus and acknowledges it, as a driver's handler does (§4.2.3.4).</summary>
    public uint AcknowledgeInterrupt()
    {
        var status = Read(InterruptStatus);
        Write(InterruptAck, status);
        return status;
    }
}

/// <summary>virtio-blk requests as a driver lays them out (virtio 1.2 §5.2.6): header, data, status byte.</summary>
internal static class BlockRequest
{
    public static byte[] Header(uint type, ulong sector)
    {
        var header = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(header, type);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(8), sector);
        return header;
    }

    /// <summary>Offers header (readable), <paramref name="data"/>, and a status byte (writable, 0xff until the device writes it) on queue 0; returns the status byte's address.</summary>
    public static ulong Offer(VirtioTestDriver driver, uint type, ulong sector, params TestBuffer[] data)
    {
        var header = driver.Buffer(16, Header(type, sector));
        var status = driver.Buffer(1, [0xff]);
        driver.Offer(0, [new TestBuffer(header, 16, false), .. data, new TestBuffer(status, 1, true)]);
        return status;
    }

    public static byte Status(VirtioTestDriver driver, ulong statusAddress) => driver.ReadRam(statusAddress, 1)[0];

    /// <summary>A disk of <paramref name="sectors"/> whose byte j is (7j + 1) mod 256, the pattern the guest program's disk image has.</summary>
    public static MemoryBlockStore PatternDisk(ulong sectors)
    {
        var store = new MemoryBlockStore(sectors);
        var bytes = new byte[sectors * 512];
        for (var j = 0; j < bytes.Length; j++)
        {
            bytes[j] = (byte)((7 * j) + 1);
        }
        Assert.True(store.TryWrite(0, bytes));
        return store;
    }
}
