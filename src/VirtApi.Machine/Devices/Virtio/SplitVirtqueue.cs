using System.Buffers.Binary;
using System.Numerics;
using VirtApi.Machine.Memory;

namespace VirtApi.Machine.Devices.Virtio;

/// <summary>What <see cref="SplitVirtqueue.TryPop"/> found.</summary>
public enum PopResult
{
    /// <summary>The driver has made no new chain available.</summary>
    Empty,

    /// <summary>A well-formed chain was taken.</summary>
    Chain,

    /// <summary>
    /// The rings or the chain break the spec (a loop, an index past the queue size, a ring outside
    /// guest RAM …): the device cannot go on with this queue and needs a reset (virtio 1.2 §2.1.2).
    /// </summary>
    Broken,
}

/// <summary>
/// The device's side of a split virtqueue (virtio 1.2 §2.7): the descriptor table (Descriptor Area,
/// 16 bytes per descriptor), the available ring (Driver Area: flags, idx, ring[size]) written by the
/// driver, and the used ring (Device Area: flags, idx, ring[size] of {id, len}) written by the device.
/// The 16-bit indices run freely and wrap from 65535 to 0; ring slots are index mod size, which is why
/// the size is a power of 2 (§2.7). Indirect descriptors and VIRTIO_F_EVENT_IDX are not offered.
/// Everything is read from and written to guest memory through <see cref="IGuestMemory"/>; nothing
/// the driver writes can make it throw, loop or touch memory outside guest RAM.
/// </summary>
public sealed class SplitVirtqueue
{
    /// <summary>VIRTQ_DESC_F_NEXT (§2.7.5): the chain goes on at <c>next</c>.</summary>
    public const ushort DescriptorNext = 1;

    /// <summary>VIRTQ_DESC_F_WRITE (§2.7.5): the buffer is device-writable.</summary>
    public const ushort DescriptorWrite = 2;

    /// <summary>VIRTQ_DESC_F_INDIRECT (§2.7.5.3): only with VIRTIO_F_INDIRECT_DESC, which is not offered.</summary>
    public const ushort DescriptorIndirect = 4;

    /// <summary>VIRTQ_AVAIL_F_NO_INTERRUPT (§2.7.7): the driver asks not to be sent used buffer notifications.</summary>
    public const ushort AvailNoInterrupt = 1;

    /// <summary>The largest queue size of a split virtqueue (§2.7).</summary>
    public const ushort LargestSize = 32768;

    private const int DescriptorSize = 16;
    private const int UsedElementSize = 8;

    // The chain being handed out: a chain is at most Size descriptors long (§2.7.5.3.1), so this never grows.
    private readonly VirtqBuffer[] _chain;

    public SplitVirtqueue(ushort maxSize)
    {
        if (!IsPowerOfTwo(maxSize) || maxSize > LargestSize)
        {
            throw new ArgumentOutOfRangeException(nameof(maxSize), maxSize, "a split virtqueue's size is a power of 2 up to 32768");
        }
        MaxSize = maxSize;
        Size = maxSize;
        _chain = new VirtqBuffer[maxSize];
    }

    /// <summary>QueueNumMax: the largest size the device accepts.</summary>
    public ushort MaxSize { get; }

    /// <summary>QueueNum: the size the driver chose (reset value: <see cref="MaxSize"/>).</summary>
    public ushort Size { get; internal set; }

    /// <summary>QueueReady: the device may use the queue's memory (§4.2.2.1: never while this is false).</summary>
    public bool Ready { get; internal set; }

    /// <summary>Guest-physical address of the descriptor table.</summary>
    public ulong DescriptorArea { get; internal set; }

    /// <summary>Guest-physical address of the available ring.</summary>
    public ulong DriverArea { get; internal set; }

    /// <summary>Guest-physical address of the used ring.</summary>
    public ulong DeviceArea { get; internal set; }

    /// <summary>The next available-ring index the device will take (the driver's <c>avail.idx</c> when it has caught up).</summary>
    public ushort LastAvailIdx { get; internal set; }

    /// <summary>The used ring's <c>idx</c> as the device last wrote it.</summary>
    public ushort UsedIdx { get; internal set; }

    /// <summary>A queue size the driver may choose: a power of 2 (§2.7) no larger than QueueNumMax (§4.2.2.2).</summary>
    public bool AcceptsSize(uint size) => size <= MaxSize && IsPowerOfTwo(size);

    /// <summary>
    /// Whether the three areas are placed as §2.7.1 requires: descriptor table aligned to 16, available
    /// ring to 2, used ring to 4, and none of them (16·size, 6 + 2·size and 6 + 8·size bytes) wrapping
    /// past the top of the address space, so that every ring address the device forms is the one meant.
    /// </summary>
    public bool AreasValid =>
        DescriptorArea % 16 == 0 && DriverArea % 2 == 0 && DeviceArea % 4 == 0
        && DescriptorArea <= ulong.MaxValue - ((ulong)DescriptorSize * Size)
        && DriverArea <= ulong.MaxValue - (6 + (2UL * Size))
        && DeviceArea <= ulong.MaxValue - (6 + ((ulong)UsedElementSize * Size));

    /// <summary>Back to the reset state (§2.4): not ready, no areas, indices zero, the largest size.</summary>
    internal void Reset()
    {
        Size = MaxSize;
        Ready = false;
        DescriptorArea = 0;
        DriverArea = 0;
        DeviceArea = 0;
        LastAvailIdx = 0;
        UsedIdx = 0;
    }

    /// <summary>
    /// Takes the next chain the driver made available, if any. A chain is refused (<see cref="PopResult.Broken"/>,
    /// nothing consumed) when the available index ran more than a queue size ahead (§2.7.6: it never
    /// decrements, and at most size buffers are outstanding), a head or <c>next</c> is not a descriptor
    /// of the table, the chain is longer than the queue (§2.7.5.3.1; this is how a loop shows),
    /// it uses INDIRECT (not negotiated, §2.7.5.3.1), a writable descriptor precedes a readable one
    /// (§2.7.4.2), its total length passes 2^32 − 1 (§2.7.5.2), a buffer wraps the address space, or a
    /// ring or descriptor lies outside guest RAM.
    /// </summary>
    public PopResult TryPop(IGuestMemory memory, out DescriptorChain chain)
    {
        chain = default;
        Span<byte> field = stackalloc byte[DescriptorSize];
        if (!memory.TryRead(DriverArea + 2, field[..2]))
        {
            return PopResult.Broken;
        }
        var availIdx = BinaryPrimitives.ReadUInt16LittleEndian(field);
        var outstanding = (ushort)(availIdx - LastAvailIdx);
        if (outstanding == 0)
        {
            return PopResult.Empty;
        }
        if (outstanding > Size || !memory.TryRead(DriverArea + 4 + (2UL * (ulong)(LastAvailIdx & (Size - 1))), field[..2]))
        {
            return PopResult.Broken;
        }
        var head = BinaryPrimitives.ReadUInt16LittleEndian(field);
        var index = head;
        var count = 0;
        ulong readable = 0;
        ulong writable = 0;
        while (true)
        {
            if (index >= Size || count == Size || !memory.TryRead(DescriptorArea + ((ulong)index * DescriptorSize), field))
            {
                return PopResult.Broken;
            }
            var address = BinaryPrimitives.ReadUInt64LittleEndian(field);
            var length = BinaryPrimitives.ReadUInt32LittleEndian(field[8..]);
            var flags = BinaryPrimitives.ReadUInt16LittleEndian(field[12..]);
            var deviceWritable = (flags & DescriptorWrite) != 0;
            if ((flags & DescriptorIndirect) != 0 || (!deviceWritable && writable != 0) || address + length < address)
            {
                return PopResult.Broken;
            }
            if (deviceWritable)
            {
                writable += length;
            }
            else
            {
                readable += length;
            }
            if (readable + writable > uint.MaxValue)
            {
                return PopResult.Broken;
            }
            _chain[count++] = new VirtqBuffer(address, length, deviceWritable);
            if ((flags & DescriptorNext) == 0)
            {
                break;
            }
            index = BinaryPrimitives.ReadUInt16LittleEndian(field[14..]);
        }
        LastAvailIdx++;
        chain = new DescriptorChain(head, _chain.AsSpan(0, count), memory, (uint)readable, (uint)writable);
        return PopResult.Chain;
    }

    /// <summary>
    /// Returns the chain <paramref name="head"/> to the driver with <paramref name="written"/> bytes
    /// written into its writable buffers: the used element first, then <c>used.idx</c> (§2.7.8.2: len
    /// is set before idx is updated). False when the used ring lies outside guest RAM.
    /// </summary>
    public bool TryPush(IGuestMemory memory, ushort head, uint written)
    {
        Span<byte> element = stackalloc byte[UsedElementSize];
        BinaryPrimitives.WriteUInt32LittleEndian(element, head);
        BinaryPrimitives.WriteUInt32LittleEndian(element[4..], written);
        if (!memory.TryWrite(DeviceArea + 4 + ((ulong)(UsedIdx & (Size - 1)) * UsedElementSize), element))
        {
            return false;
        }
        BinaryPrimitives.WriteUInt16LittleEndian(element, (ushort)(UsedIdx + 1));
        if (!memory.TryWrite(DeviceArea + 2, element[..2]))
        {
            return false;
        }
        UsedIdx++;
        return true;
    }

    /// <summary>
    /// Whether the driver wants a used buffer notification (§2.7.7.2: without VIRTIO_F_EVENT_IDX the
    /// device SHOULD NOT send one while <c>avail.flags</c> is 1). False in <paramref name="readable"/>
    /// when the available ring lies outside guest RAM.
    /// </summary>
    public bool WantsNotification(IGuestMemory memory, out bool readable)
    {
        Span<byte> flags = stackalloc byte[2];
        readable = memory.TryRead(DriverArea, flags);
        return readable && (BinaryPrimitives.ReadUInt16LittleEndian(flags) & AvailNoInterrupt) == 0;
    }

    /// <summary>The queue's registers and indices, for a snapshot.</summary>
    public VirtqueueState Save() => new()
    {
        Size = Size,
        Ready = Ready,
        DescriptorArea = DescriptorArea,
        DriverArea = DriverArea,
        DeviceArea = DeviceArea,
        LastAvailIdx = LastAvailIdx,
        UsedIdx = UsedIdx,
    };

    /// <summary>A queue of <paramref name="maxSize"/> holding <paramref name="state"/>; a size the queue could not have had is refused.</summary>
    public static SplitVirtqueue Restore(ushort maxSize, VirtqueueState state)
    {
        var queue = new SplitVirtqueue(maxSize);
        if (!queue.AcceptsSize(state.Size))
        {
            throw new ArgumentException($"queue size {state.Size} is not a power of 2 up to {maxSize}", nameof(state));
        }
        queue.Size = state.Size;
        queue.Ready = state.Ready;
        queue.DescriptorArea = state.DescriptorArea;
        queue.DriverArea = state.DriverArea;
        queue.DeviceArea = state.DeviceArea;
        queue.LastAvailIdx = state.LastAvailIdx;
        queue.UsedIdx = state.UsedIdx;
        if (queue.Ready && !queue.AreasValid)
        {
            throw new ArgumentException("a ready queue's areas must be aligned and inside the address space", nameof(state));
        }
        return queue;
    }

    private static bool IsPowerOfTwo(uint value) => BitOperations.IsPow2(value);
}
